"""Finding a censor's exact keyword rules by probing its filter (``memoryhole isolate``)."""
