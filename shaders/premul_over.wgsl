// Draws a premultiplied float texture (a cached stack of layers) over the target with
// fixed-function premultiplied "over" blending. Used by the live-drag path for the cached
// composite of the layers above the dragged one. `struct Draw` is in prelude.wgsl.

@group(0) @binding(0) var<uniform> draw: Draw;
@group(0) @binding(1) var premul_tex: texture_2d<f32>;

@vertex
fn vs_rect(@builtin(vertex_index) i: u32) -> VsOut {
    let origin = vec2<f32>(draw.origin);
    return rect_vertex(i, origin, origin + vec2<f32>(draw.size), draw.target_size);
}

@fragment
fn fs_premul(in: VsOut) -> @location(0) vec4<f32> {
    let texel = vec2<i32>(floor(in.pos.xy)) - draw.origin + draw.src;
    return textureLoad(premul_tex, texel, 0) * draw.opacity;
}
