"""Patients' privacy: retention, erasure, withdrawal, and the privacy page."""
