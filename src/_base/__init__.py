"""The framework: column types, reusable DDL and table types shared by every database project."""
