"""The database: tables, migrations and the Store that owns every transaction."""
