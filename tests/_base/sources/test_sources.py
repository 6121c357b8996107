"""Declared sources: resolution, the encrypted store, and a bronze load from another server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from src._base.sources import store
from src._base.sources.declared import LandingSource, PostgresSource
from src._base.sources.resolve import resolve_sources
from src.config import PROJECT_ROOT, ConnectionSettings, load_settings
from src.utils.connections import connect_raw
from src.utils.errors import ConfigError
from tests.conftest import run_sql

WAREHOUSE = ConnectionSettings(
    "127.0.0.1", 5432, "owner", "wh", password=SecretStr("warehouse-pw"), embedded=True
)
ERP = PostgresSource("erp", database="erp")
DAY = date(2026, 11, 20)


def settings_with(**sources: dict[str, str]):
    values = {n: {k: SecretStr(v) for k, v in s.items()} for n, s in sources.items()}
    return load_settings(None, sources=values)


def resolve(*declared, stored=None, **env):
    return resolve_sources(declared, settings_with(**env), WAREHOUSE, lambda: stored or {})


def test_a_source_without_settings_is_its_database_on_the_warehouses_server() -> None:
    [erp] = resolve(ERP).values()
    assert erp.target == WAREHOUSE.with_database("erp")
    assert erp.origin == "its declaration"
    unnamed = resolve(PostgresSource("ops"))["ops"]
    assert unnamed.target.database == load_settings(None).source_database


def test_the_environment_wins_and_another_server_never_gets_the_warehouses_password() -> None:
    url = "postgresql://reader:s3cret@db2.internal:6543/erp_prod"
    erp = resolve(ERP, erp={"url": url})["erp"]
    assert erp.target.describe() == "reader@db2.internal:6543/erp_prod"
    assert erp.target.password.get_secret_value() == "s3cret"
    assert erp.origin == "the environment (MEDALLION_SOURCE__ERP__*)"
    moved = resolve(ERP, erp={"host": "db3", "user": "etl"})["erp"].target
    assert moved.password is None and not moved.embedded
    with pytest.raises(ConfigError, match="another server than the warehouse's, and has no user"):
        resolve(ERP, erp={"host": "db3"})


def test_the_store_is_used_below_the_environment() -> None:
    stored = {"erp": ("postgres", {"host": "db4", "user": "etl"}, {"password": "pw"})}
    assert resolve(ERP, stored=stored)["erp"].target.describe() == "etl@db4:5432/erp"
    both = resolve(ERP, stored=stored, erp={"port": "7000"})["erp"]
    assert both.target.describe() == "etl@db4:7000/erp"
    assert both.target.password.get_secret_value() == "pw"


@pytest.mark.parametrize(
    ("declared", "env", "stored", "message"),
    [
        (ERP, {"erp": {"hots": "x"}}, None, "MEDALLION_SOURCE__ERP__HOTS is not a setting"),
        (ERP, {"erp": {"port": "x"}}, None, "port 'x' is not a number"),
        (ERP, {}, {"erp": ("landing", {}, {})}, "declared postgres but stored as landing"),
    ],
)
def test_bad_source_settings_name_the_setting(declared, env, stored, message) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(declared, stored=stored, **env)


def test_a_landing_source_takes_its_path_from_the_environment(tmp_path: Path) -> None:
    drops = LandingSource("drops", path="data/drops")
    assert resolve(drops)["drops"].target == PROJECT_ROOT / "data/drops"
    assert resolve(drops, drops={"path": str(tmp_path)})["drops"].target == tmp_path


# --- the store -----------------------------------------------------------------------


def keys(*raw: str):
    return store.keyring(SecretStr(",".join(raw)), None)


def test_stored_secrets_are_encrypted_listed_by_name_only_and_rotated(pg_database) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    raw = connect_raw(pg_database)
    try:
        store.put(raw, keys(old), "erp", "postgres", {"host": "db2"}, {"password": "pw-123"})
        [token] = run_sql(pg_database, "SELECT secret FROM medallion.source_connection")[0]
        assert b"pw-123" not in bytes(token)
        listed = store.listing(raw, keys(old))
        assert listed[0].secret_names == ("password",) and "pw-123" not in repr(listed)
        assert store.listing(raw, None)[0].secret_names == ("<encrypted>",)
        assert store.rotate(raw, keys(new, old)) == 1
        assert store.read_all(raw, lambda: keys(new))["erp"][2] == {"password": "pw-123"}
        with pytest.raises(ConfigError, match="secrets of source 'erp' open with none of the keys"):
            store.read_all(raw, lambda: keys(old))
    finally:
        raw.close()


def test_the_key_must_be_set_well_formed_and_private(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a key: set MEDALLION_CONNECTIONS_KEY"):
        store.keyring(None, None)
    with pytest.raises(ConfigError, match="not a Fernet key"):
        store.keyring(SecretStr("not-a-key"), None)
    key_file = tmp_path / "key"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others: chmod 600"):
        store.keyring(None, key_file)
    key_file.chmod(0o600)
    assert store.keyring(None, key_file)


def test_a_tenant_has_settings_of_its_own_over_the_sources() -> None:
    stored = {
        "erp": ("postgres", {"host": "db4", "user": "etl"}, {"password": "pw"}),
        "erp@acme": ("postgres", {"database": "erp_acme"}, {}),
    }
    settings = load_settings(
        None, sources={"erp": {"port": SecretStr("7000"), "globex": {"host": SecretStr("db9")}}}
    )

    def resolved(tenant):
        return resolve_sources((ERP,), settings, WAREHOUSE, lambda: stored, tenant)["erp"]

    assert resolved(None).target.describe() == "etl@db4:7000/erp"
    assert resolved("acme").target.describe() == "etl@db4:7000/erp_acme"
    globex = resolved("globex")
    assert globex.target.describe() == "etl@db9:7000/erp"
    assert globex.origin == "the environment (MEDALLION_SOURCE__ERP__GLOBEX__*)"
