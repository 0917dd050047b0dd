//! The TIP simulator.
