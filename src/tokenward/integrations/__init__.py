"""Thin shims that let web frameworks verify tokenward sessions; ``Auth.install`` does the rest."""
