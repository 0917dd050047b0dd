//! The OpenCTI stand-in.
