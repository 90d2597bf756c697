// The render plan's extra draws (src/model/render_plan.rs, run by src/gpu/plan_draw.rs):
// layers drawn with a mask and/or "atop" a clipping base, and the merge of a group's canvas
// into the canvas below. Appended to composite.wgsl, whose blend maths (`blend_pixel`) and
// bindings 0-2 it reuses, so every path keeps the CPU reference's per-pixel formula
// (model::blend_pixel: blend_straight, blend_atop, merge_canvas).

// Per-draw plan uniforms (PlanUniform in src/gpu/plan_draw.rs, 64 bytes).
struct Plan {
    // Target pixel where document pixel (0, 0)'s corner lands, and target pixels per
    // document pixel: masks and dissolve are tied to document pixels.
    map_origin: vec2<f32>,
    map_zoom: f32,
    // Non-zero: draw the layer "atop" the canvas (a clipped layer).
    clip: u32,
    // Document pixel of mask texel (0, 0), and the mask's size.
    mask_origin: vec2<i32>,
    mask_size: vec2<i32>,
    // Mask value (0..1) outside its rectangle, and its density.
    mask_background: f32,
    mask_density: f32,
    // Zero: no mask (mask_tex is a placeholder).
    has_mask: u32,
    // A merge's opacity (its mask multiplies in), and its mode or MERGE_PASS_THROUGH.
    strength: f32,
    merge_mode: u32,
    // A merge maps its canvas through map_tex first (an adjustment layer): MAP_NONE, or
    // how the table is looked up (model::Lookup).
    has_map: u32,
    _plan_pad1: vec2<u32>,
};

// `merge_mode` of a pass-through group: interpolate from below toward the group's canvas.
const MERGE_PASS_THROUGH: u32 = 0xffffffffu;
const MAP_NONE: u32 = 0u;
const MAP_LUMINOSITY: u32 = 1u;
const MAP_CHANNELS: u32 = 2u;
const MAP_MATRIX: u32 = 3u;

@group(0) @binding(4) var mask_tex: texture_2d<f32>;
@group(0) @binding(5) var<uniform> plan: Plan;
// An adjustment's colour table (model::Adjustment::table), one texel per entry.
@group(0) @binding(6) var map_tex: texture_2d<f32>;

// The document pixel under this target pixel's centre.
fn plan_cell(pos: vec4<f32>) -> vec2<i32> {
    return vec2<i32>(floor((pos.xy - plan.map_origin) / plan.map_zoom));
}

// The factor the mask applies to alpha at document pixel `cell` (model::Coverage::at).
fn mask_at(cell: vec2<i32>) -> f32 {
    if plan.has_mask == 0u {
        return 1.0;
    }
    let local = cell - plan.mask_origin;
    var v = plan.mask_background;
    if all(local >= vec2<i32>(0)) && all(local < plan.mask_size) {
        v = textureLoad(mask_tex, local, 0).r;
    }
    return 1.0 - plan.mask_density * (1.0 - v);
}

// model::blend_pixel::blend_atop: the layer shows only where the backdrop has alpha, and
// the backdrop's alpha stays: the normal formula without the layer-over-transparency term.
fn atop_pixel(s: vec3<f32>, alpha: f32, fill: f32, b: vec4<f32>, mode: u32, cell: vec2<i32>) -> vec4<f32> {
    let a_b = b.a;
    if alpha <= 0.0 || a_b <= 0.0 {
        return b;
    }
    let a_s = alpha * fill;
    if mode == MODE_DISSOLVE {
        if a_s > dissolve_threshold(cell) {
            return vec4<f32>(s * a_b, a_b);
        }
        return b;
    }
    let out = blend_pixel(s, alpha, fill, b, mode, cell);
    return vec4<f32>(out.rgb - a_s * (1.0 - a_b) * s, a_b);
}

// One layer pixel of a plan draw: straight colour `s` at `alpha` (opacity and mask
// included) over the backdrop `b`, atop it for a clipped layer.
fn plan_pixel(s: vec3<f32>, alpha: f32, fill: f32, b: vec4<f32>, mode: u32, cell: vec2<i32>) -> vec4<f32> {
    if plan.clip != 0u {
        return atop_pixel(s, alpha, fill, b, mode, cell);
    }
    if alpha <= 0.0 {
        return b;
    }
    return blend_pixel(s, alpha, fill, b, mode, cell);
}

// A layer chunk of the full-resolution path (uniforms as fs_blend's).
@fragment
fn fs_plan_layer(in: VsOut) -> @location(0) vec4<f32> {
    let s = layer_texel(in.pos);
    let b = textureLoad(backdrop_tex, vec2<i32>(floor(in.pos.xy)), 0);
    let cell = plan_cell(in.pos);
    return plan_pixel(s.rgb, s.a * draw.opacity * mask_at(cell), draw.fill, b, draw.mode, cell);
}

@vertex
fn vs_plan_full(@builtin(vertex_index) i: u32) -> VsOut {
    return fullscreen_vertex(i);
}

// model::blend_pixel::merge_canvas: the group's canvas (layer_tex) into the copy of the
// canvas below (backdrop_tex), at the group's opacity times its mask.
// model::Adjustment::apply: the colour replaced through the table, the alpha kept; one
// entry picked by luminosity (model::adjustment::luminosity), or one per channel by its
// own value (indices as model::adjustment::table_index); or, for a matrix, each channel
// one texel's row over (r, g, b, 1), rounded to 8 bits half up.
fn map_entry(value: f32) -> vec4<f32> {
    let last = i32(textureDimensions(map_tex).x) - 1;
    let index = min(i32(floor(clamp(value, 0.0, 1.0) * f32(last) + 0.5)), last);
    return textureLoad(map_tex, vec2<i32>(index, 0), 0);
}

fn map_pixel(px: vec4<f32>) -> vec4<f32> {
    if px.a <= 0.0 {
        return px;
    }
    let rgb = clamp(px.rgb / px.a, vec3<f32>(0.0), vec3<f32>(1.0));
    var entry: vec3<f32>;
    if plan.has_map == MAP_CHANNELS {
        entry = vec3<f32>(map_entry(rgb.r).r, map_entry(rgb.g).g, map_entry(rgb.b).b);
    } else if plan.has_map == MAP_MATRIX {
        let x = vec4<f32>(rgb, 1.0);
        let mixed = vec3<f32>(
            dot(textureLoad(map_tex, vec2<i32>(0, 0), 0), x),
            dot(textureLoad(map_tex, vec2<i32>(1, 0), 0), x),
            dot(textureLoad(map_tex, vec2<i32>(2, 0), 0), x),
        );
        entry = floor(clamp(mixed, vec3<f32>(0.0), vec3<f32>(1.0)) * 255.0 + 0.5) / 255.0;
    } else {
        entry = map_entry(clamp(0.3 * rgb.r + 0.59 * rgb.g + 0.11 * rgb.b, 0.0, 1.0)).rgb;
    }
    return vec4<f32>(entry * px.a, px.a);
}

@fragment
fn fs_plan_merge(in: VsOut) -> @location(0) vec4<f32> {
    let px = vec2<i32>(floor(in.pos.xy));
    var top = textureLoad(layer_tex, px, 0);
    if plan.has_map != MAP_NONE {
        top = map_pixel(top);
    }
    let below = textureLoad(backdrop_tex, px, 0);
    let cell = plan_cell(in.pos);
    let strength = plan.strength * mask_at(cell);
    if plan.merge_mode == MERGE_PASS_THROUGH {
        return below + (top - below) * strength;
    }
    let alpha = min(top.a, 1.0) * strength;
    if top.a <= 0.0 || alpha <= 0.0 {
        return below;
    }
    return blend_pixel(straight_rgb(top), alpha, 1.0, below, plan.merge_mode, cell);
}
