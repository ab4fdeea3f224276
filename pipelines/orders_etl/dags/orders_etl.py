"""orders_etl: a small ETL into PostgreSQL, the second shipped pipeline (not about ads).

extract_orders (the run's orders, from ``conf.orders`` and the run id: order ids
are known) → transform_orders (line totals, cents) → load_orders (delete + insert
the run's rows, one transaction: a retry never duplicates) → check_orders (the
table has exactly the run's orders). Connection ``orders_db`` (the deploy of the
``orders_etl`` profile creates it: the stack's PostgreSQL, database ``orders``,
through the serving-db proxy). Schema: ../sql/orders_schema.sql.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

CONN_ID = "orders_db"
#: Seconds to wait for a connection (the serving-db link may be faulted).
CONNECT_TIMEOUT = 10


def _connect() -> Any:
    import psycopg  # noqa: PLC0415 - parse-time imports stay light
    from airflow.sdk import Connection  # noqa: PLC0415

    conn = Connection.get(CONN_ID)
    return psycopg.connect(
        host=conn.host,
        port=conn.port,
        user=conn.login,
        password=conn.password,
        dbname=conn.schema,
        connect_timeout=CONNECT_TIMEOUT,
        application_name="orders_etl",
        options="-c statement_timeout=60000",
    )


def extract(params: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
    """The run's orders: ``params.orders`` of them, ids ``<run_id>:<n>``, prices from a hash."""
    orders = []
    for n in range(int(params["orders"])):
        order_id = f"{run_id}:{n}"
        digest = hashlib.sha256(order_id.encode()).digest()
        orders.append(
            {
                "order_id": order_id,
                "customer_id": digest[0] % 50,
                "quantity": 1 + digest[1] % 5,
                "unit_price_cents": 100 + int.from_bytes(digest[2:4], "big") % 9900,
            }
        )
    return orders


def transform(ti: Any) -> list[dict[str, Any]]:
    """Each order with its line total."""
    orders: list[dict[str, Any]] = ti.xcom_pull(task_ids="extract_orders")
    return [{**o, "total_cents": o["quantity"] * o["unit_price_cents"]} for o in orders]


def load(ti: Any, run_id: str) -> int:
    """Replace the run's rows in one transaction; the row count."""
    rows: list[dict[str, Any]] = ti.xcom_pull(task_ids="transform_orders")
    with _connect() as conn:
        conn.execute("DELETE FROM orders WHERE run_id = %s", (run_id,))
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO orders (order_id, run_id, customer_id, quantity, "
                "unit_price_cents, total_cents) VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (
                        r["order_id"],
                        run_id,
                        r["customer_id"],
                        r["quantity"],
                        r["unit_price_cents"],
                        r["total_cents"],
                    )
                    for r in rows
                ],
            )
    return len(rows)


def check(params: dict[str, Any], run_id: str) -> None:
    """The table holds exactly ``params.orders`` distinct orders of this run."""
    with _connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT order_id) FROM orders WHERE run_id = %s", (run_id,)
        ).fetchone()
    expected = int(params["orders"])
    if row is None or (int(row[0]), int(row[1])) != (expected, expected):
        raise ValueError(f"orders of {run_id}: {row}, expected {expected}")


with DAG(
    dag_id="orders_etl",
    description="orders → line totals → PostgreSQL (dagstorm's second shipped pipeline)",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    params={"orders": Param(20, type="integer", minimum=1, maximum=1000)},
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=30),
        "execution_timeout": timedelta(minutes=5),
    },
    tags=["dagstorm", "orders"],
) as dag:
    extract_orders = PythonOperator(task_id="extract_orders", python_callable=extract)
    transform_orders = PythonOperator(task_id="transform_orders", python_callable=transform)
    load_orders = PythonOperator(task_id="load_orders", python_callable=load)
    check_orders = PythonOperator(task_id="check_orders", python_callable=check)
    extract_orders >> transform_orders >> load_orders >> check_orders
