"""Vendors behind one interface (:class:`.base.Provider`)."""
