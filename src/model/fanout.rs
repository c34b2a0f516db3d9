//! Fan-out calls (to be written).
