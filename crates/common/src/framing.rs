//! Message framing over a TCP byte stream (lesson 2). Filled in by sticky-demo.
