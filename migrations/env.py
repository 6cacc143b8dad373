"""Alembic environment: run by annotator.migrate with a live connection in its attributes."""

from alembic import context

from annotator.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode copies the table, finding
    # constraints by the names the naming convention gives them.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
