"""Segment orientations, joint angles (JCS, sign table) and the line of progression."""
