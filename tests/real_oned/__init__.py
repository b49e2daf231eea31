"""Real OpenNebula ``oned`` instances for the tests (built by scripts/build-oned.sh), behind a counting proxy."""
