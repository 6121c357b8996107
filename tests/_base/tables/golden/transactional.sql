CREATE TABLE silver.trade (
	trade_id UUID DEFAULT medallion.uuid_v7() NOT NULL, 
	portfolio_id UUID NOT NULL, 
	trade_status_type_id INTEGER NOT NULL, 
	quantity NUMERIC(18, 4) NOT NULL, 
	price NUMERIC(18, 6) NOT NULL, 
	effective_time TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (trade_id), 
	FOREIGN KEY(trade_status_type_id) REFERENCES common.trade_status_type (trade_status_type_id)
);

CREATE INDEX trade_portfolio_time_idx ON silver.trade (portfolio_id, effective_time);

