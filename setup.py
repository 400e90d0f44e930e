"""Packaging shim for Dataflow: its launcher (FLEX_TEMPLATE_PYTHON_SETUP_FILE) and ``--setup_file``
want a setup.py to build the package that workers install. Everything is declared in
pyproject.toml; this file only hands over to setuptools."""

from setuptools import setup

setup()
