//! Operator tools: `porttrack decode` and `porttrack replay`.
//!
//! Both reuse the pipeline's own decoders, so what they print or produce is
//! exactly what a running pipeline would make of the same input.

pub mod decode;
pub mod replay;
