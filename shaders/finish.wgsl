// Converts the premultiplied float canvas to straight-alpha RGBA8 for export and readback,
// the storage format of files. Pixels whose alpha rounds to 0 become (0, 0, 0, 0), as in the
// CPU reference compositor (unpremultiply in prelude.wgsl).

@group(0) @binding(0) var canvas_tex: texture_2d<f32>;

@vertex
fn vs_fullscreen(@builtin(vertex_index) i: u32) -> VsOut {
    return fullscreen_vertex(i);
}

@fragment
fn fs_straight(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    return unpremultiply(textureLoad(canvas_tex, vec2<i32>(floor(pos.xy)), 0));
}
