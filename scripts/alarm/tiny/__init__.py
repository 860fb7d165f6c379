"""Tiny random models of the real architectures, their offline tokenizers and format fit.

Scaffolding for the default (laptop) run and the tests: nothing here runs at paper scale.
"""
