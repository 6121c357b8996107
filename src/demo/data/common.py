"""Reference rows of the common schema (upserted by build_reference_data.py)."""

from src.demo.tables.common.action_type import ActionType
from src.demo.tables.common.asset_class_type import AssetClassType
from src.demo.tables.common.currency_type import CurrencyType
from src.demo.tables.common.exchange_type import ExchangeType
from src.demo.tables.common.trade_status_type import TradeStatusType

REFERENCE_DATA = {
    TradeStatusType: [
        {"trade_status_type_id": 1, "code": "NEW", "description": "Order accepted"},
        {"trade_status_type_id": 2, "code": "PARTIALLY_FILLED", "description": "Partly executed"},
        {"trade_status_type_id": 3, "code": "FILLED", "description": "Fully executed"},
        {"trade_status_type_id": 4, "code": "AMENDED", "description": "Quantity or price amended"},
        {
            "trade_status_type_id": 5,
            "code": "CANCELLED",
            "description": "Cancelled",
            "is_terminal": True,
        },
        {
            "trade_status_type_id": 6,
            "code": "SETTLED",
            "description": "Settled",
            "is_terminal": True,
        },
    ],
    ActionType: [
        {
            "action_type_id": 1,
            "code": "BUY",
            "description": "Buy to open or add",
            "position_sign": 1,
        },
        {
            "action_type_id": 2,
            "code": "SELL",
            "description": "Sell a long position",
            "position_sign": -1,
        },
        {"action_type_id": 3, "code": "SHORT", "description": "Sell short", "position_sign": -1},
        {
            "action_type_id": 4,
            "code": "COVER",
            "description": "Buy to cover a short",
            "position_sign": 1,
        },
    ],
    AssetClassType: [
        {"asset_class_type_id": 1, "code": "EQUITY", "description": "Listed equity"},
        {"asset_class_type_id": 2, "code": "ETF", "description": "Exchange-traded fund"},
        {"asset_class_type_id": 3, "code": "FX", "description": "Foreign exchange"},
        {"asset_class_type_id": 4, "code": "CRYPTO", "description": "Crypto asset"},
    ],
    ExchangeType: [
        {
            "exchange_type_id": 1,
            "mic": "XNYS",
            "name": "New York Stock Exchange",
            "timezone": "America/New_York",
        },
        {"exchange_type_id": 2, "mic": "XNAS", "name": "Nasdaq", "timezone": "America/New_York"},
        {
            "exchange_type_id": 3,
            "mic": "XLON",
            "name": "London Stock Exchange",
            "timezone": "Europe/London",
        },
        {"exchange_type_id": 4, "mic": "XETR", "name": "Xetra", "timezone": "Europe/Berlin"},
    ],
    CurrencyType: [
        {"currency_type_id": 1, "iso_code": "USD", "name": "US dollar"},
        {"currency_type_id": 2, "iso_code": "EUR", "name": "Euro"},
        {"currency_type_id": 3, "iso_code": "GBP", "name": "Pound sterling"},
        {"currency_type_id": 4, "iso_code": "JPY", "name": "Japanese yen", "minor_units": 0},
    ],
}
