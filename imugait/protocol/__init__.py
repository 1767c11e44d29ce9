"""Wire protocols: pure, incremental decoders (feed bytes, get messages) and our encoder."""
