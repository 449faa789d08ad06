//! Operator tools: `porttrack decode`, `porttrack replay` and `porttrack dlq replay`.
//!
//! `decode` and `replay` reuse the pipeline's own decoders, so what they
//! print or produce is exactly what a running pipeline would make of the
//! same input; `dlq replay` sends dead letters back to their source topics.

pub mod decode;
pub mod dlq;
pub mod replay;
