//! `TextEncoderConfig`: the language-model half of a Qwen2.5-VL `config.json`.

use std::path::Path;

use candle_core as candle;
use serde::Deserialize;

/// The Qwen2.5-VL language model's hyper-parameters (the text path; the vision tower is not
/// built).
///
/// Read from the checkpoint's `text_encoder/config.json` with [`TextEncoderConfig::from_json`].
/// transformers has written that file in two shapes over time: flat (every text field at the top
/// level, `rope_scaling` + `rope_theta`; transformers 4.x, which also copied them into
/// `text_config`) and nested (`text_config` with `rope_parameters`; transformers 5). Both are
/// accepted: a field in `text_config` wins over the same field at the top level, as in
/// transformers 5's `Qwen2_5_VLConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextEncoderConfig {
    /// Rows of the token embedding (152064 for Qwen2.5-VL-7B).
    pub vocab_size: usize,
    /// Model width (3584 for 7B); also the width of the returned hidden states.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP's hidden layer.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads; the head width is `hidden_size / num_attention_heads`.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); divides `num_attention_heads`.
    pub num_key_value_heads: usize,
    /// Epsilon of every RMSNorm.
    pub rms_norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// How the head's `head_dim / 2` rotary frequencies are split between the temporal, height
    /// and width position axes (multimodal RoPE); sums to `head_dim / 2`.
    pub mrope_section: Vec<usize>,
}

/// The defaults transformers applies when a field is absent (`Qwen2_5_VLTextConfig`).
const DEFAULT_RMS_NORM_EPS: f64 = 1e-5;
const DEFAULT_ROPE_THETA: f64 = 1_000_000.0;
const DEFAULT_MROPE_SECTION: [usize; 3] = [16, 24, 24];

/// The RoPE block, under either of its names (`rope_scaling` in 4.x, `rope_parameters` in 5).
#[derive(Debug, Clone, Default, Deserialize)]
struct RawRope {
    rope_type: Option<String>,
    // 4.x wrote `"type": "mrope"`; transformers 5 keeps it beside `rope_type`, so both are read
    // as separate fields (a serde alias would reject the duplicate).
    #[serde(rename = "type")]
    kind: Option<String>,
    rope_theta: Option<f64>,
    mrope_section: Option<Vec<usize>>,
}

/// Every text field, all optional, so the same struct reads the top level and `text_config`.
#[derive(Debug, Clone, Default, Deserialize)]
struct RawText {
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RawRope>,
    rope_parameters: Option<RawRope>,
    hidden_act: Option<String>,
    use_sliding_window: Option<bool>,
}

impl RawText {
    /// `self`'s fields, falling back to `top`'s where `self` has none.
    fn or(self, top: RawText) -> RawText {
        RawText {
            vocab_size: self.vocab_size.or(top.vocab_size),
            hidden_size: self.hidden_size.or(top.hidden_size),
            intermediate_size: self.intermediate_size.or(top.intermediate_size),
            num_hidden_layers: self.num_hidden_layers.or(top.num_hidden_layers),
            num_attention_heads: self.num_attention_heads.or(top.num_attention_heads),
            num_key_value_heads: self.num_key_value_heads.or(top.num_key_value_heads),
            head_dim: self.head_dim.or(top.head_dim),
            rms_norm_eps: self.rms_norm_eps.or(top.rms_norm_eps),
            rope_theta: self.rope_theta.or(top.rope_theta),
            rope_scaling: self.rope_scaling.or(top.rope_scaling),
            rope_parameters: self.rope_parameters.or(top.rope_parameters),
            hidden_act: self.hidden_act.or(top.hidden_act),
            use_sliding_window: self.use_sliding_window.or(top.use_sliding_window),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    #[serde(flatten)]
    top: RawText,
    text_config: Option<RawText>,
}

fn required(value: Option<usize>, name: &str) -> candle::Result<usize> {
    value.ok_or_else(|| candle::Error::Msg(format!("text encoder config: `{name}` is missing")))
}

impl TextEncoderConfig {
    /// Qwen2.5-VL-7B's language model, the text encoder of Qwen-Image(-Layered).
    pub fn qwen2_5_vl_7b() -> Self {
        Self {
            vocab_size: 152_064,
            hidden_size: 3584,
            intermediate_size: 18_944,
            num_hidden_layers: 28,
            num_attention_heads: 28,
            num_key_value_heads: 4,
            rms_norm_eps: 1e-6,
            rope_theta: 1_000_000.0,
            mrope_section: DEFAULT_MROPE_SECTION.to_vec(),
        }
    }

    /// Parses a Qwen2.5-VL `config.json` (flat or with `text_config`) and checks it describes a
    /// model this implementation computes exactly.
    pub fn from_json(json: &str) -> candle::Result<Self> {
        let raw: RawConfig = serde_json::from_str(json)
            .map_err(|e| candle::Error::Msg(format!("text encoder config: {e}")))?;
        let t = raw.text_config.unwrap_or_default().or(raw.top);

        // `rope_parameters` (5) is preferred over `rope_scaling` (4.x); theta may sit in either
        // or beside them.
        let rope = t
            .rope_parameters
            .clone()
            .or(t.rope_scaling.clone())
            .unwrap_or_default();
        for kind in [&rope.rope_type, &rope.kind].into_iter().flatten() {
            // transformers rewrites "mrope" to "default": both are the plain RoPE frequencies
            // with the section split; anything else (yarn, linear, dynamic) scales them.
            if kind != "default" && kind != "mrope" {
                return Err(candle::Error::Msg(format!(
                    "text encoder config: rope type `{kind}` is not supported"
                )));
            }
        }
        let num_attention_heads = required(t.num_attention_heads, "num_attention_heads")?;
        let cfg = Self {
            vocab_size: required(t.vocab_size, "vocab_size")?,
            hidden_size: required(t.hidden_size, "hidden_size")?,
            intermediate_size: required(t.intermediate_size, "intermediate_size")?,
            num_hidden_layers: required(t.num_hidden_layers, "num_hidden_layers")?,
            num_attention_heads,
            // transformers' backward-compatible default: plain multi-head attention.
            num_key_value_heads: t.num_key_value_heads.unwrap_or(num_attention_heads),
            rms_norm_eps: t.rms_norm_eps.unwrap_or(DEFAULT_RMS_NORM_EPS),
            rope_theta: rope
                .rope_theta
                .or(t.rope_theta)
                .unwrap_or(DEFAULT_ROPE_THETA),
            mrope_section: rope
                .mrope_section
                .unwrap_or_else(|| DEFAULT_MROPE_SECTION.to_vec()),
        };
        if let Some(act) = t.hidden_act.as_deref()
            && act != "silu"
        {
            return Err(candle::Error::Msg(format!(
                "text encoder config: activation `{act}` is not supported (only silu)"
            )));
        }
        if t.use_sliding_window == Some(true) {
            return Err(candle::Error::Msg(
                "text encoder config: sliding-window attention is not supported".into(),
            ));
        }
        // The attention layers use hidden_size / heads whatever `head_dim` says; a checkpoint
        // where the two differ would need the rotary width to follow `head_dim`.
        if let Some(head_dim) = t.head_dim
            && head_dim != cfg.head_dim()
        {
            return Err(candle::Error::Msg(format!(
                "text encoder config: head_dim {head_dim} differs from hidden_size / heads {}",
                cfg.head_dim()
            )));
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses `path` (a `config.json`).
    pub fn from_file(path: &Path) -> candle::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            candle::Error::Msg(format!("text encoder config {}: {e}", path.display()))
        })?;
        Self::from_json(&text)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Checks the shapes fit together (heads divide the width, kv heads divide the heads, the
    /// mRoPE sections cover half a head).
    pub fn validate(&self) -> candle::Result<()> {
        let bad = |why: String| Err(candle::Error::Msg(format!("text encoder config: {why}")));
        if self.num_attention_heads == 0
            || self.num_key_value_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !self
            .num_attention_heads
            .is_multiple_of(self.num_key_value_heads)
        {
            return bad(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        let half = self.head_dim() / 2;
        if !self.head_dim().is_multiple_of(2) || self.mrope_section.iter().sum::<usize>() != half {
            return bad(format!(
                "mrope_section {:?} must sum to head_dim / 2 = {half}",
                self.mrope_section
            ));
        }
        Ok(())
    }
}
