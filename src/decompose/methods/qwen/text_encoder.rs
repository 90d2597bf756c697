//! Qwen-Image-Layered's text encoder: the Qwen2.5-VL-7B language model on the text-only path
//! (no vision tower, so no automatic captioning), and the pipeline's prompt handling around it.
//!
//! * [`QwenTextEncoder`]: transformers' `Qwen2_5_VLTextModel` (token embedding, decoder layers
//!   with RMSNorm, q/k/v-biased grouped-query attention with multimodal RoPE, SwiGLU MLP, final
//!   norm). Its output is `hidden_states[-1]` of `Qwen2_5_VLForConditionalGeneration`.
//! * [`PromptEncoder`]: diffusers' `_get_qwen_prompt_embeds`: chat template, Qwen2 tokenizer,
//!   model, drop of the template's first 34 tokens, zero padding with a mask.
//!
//! Checked against transformers/diffusers on a tiny random configuration by
//! `tests/qwen_text_encoder_parity.rs` (`scripts/qwen_parity_text_encoder.py`).

mod config;
mod model;
mod prompt;

pub use config::TextEncoderConfig;
pub use model::QwenTextEncoder;
pub use prompt::{
    LAYERED_DROP_IDX, LAYERED_TEMPLATE, PromptEncoder, PromptTemplate, TokenBatch, drop_and_pad,
    load_language_model_weights, load_tokenizer, tokenize_prompts,
};
