// Shared by every shader: src/gpu/pipelines.rs (`shader_module`) puts this file in front of
// each shader's own source, as WGSL has no #include.
//
// Pixel conventions are those of src/model/pixels: straight alpha in storage (layer textures,
// RGBA8 output), premultiplied in maths (the float canvas); a value whose alpha rounds to the
// byte 0 is stored as transparent black.

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    // The same point in viewport pixels (rect_vertex only; zero for fullscreen passes).
    // `pos` in a fragment stage is in framebuffer pixels, which differ wherever the viewport
    // does not start at the framebuffer's corner: egui's canvas callback starts below the menu
    // bar and any banner, so the display must read this instead.
    @location(0) viewport_px: vec2<f32>,
};

// Per-draw uniforms of the compositor's shaders (DrawUniform in src/gpu/pipelines.rs).
struct Draw {
    // Top-left of the covered rectangle in target pixels, and its size.
    origin: vec2<i32>,
    size: vec2<i32>,
    // Texel of the source texture that lands on `origin`.
    src: vec2<i32>,
    target_size: vec2<f32>,
    opacity: f32,
    mode: u32,
    // Canvas pixel of target pixel (0, 0) (the tile's corner): dissolve's pattern is tied
    // to the canvas.
    canvas_origin: vec2<i32>,
    // The layer's fill opacity; `opacity` is the layer opacity alone.
    fill: f32,
    // Scalars, not a vec3: a vec3 would be aligned to 16 bytes and grow the struct.
    _pad0: u32,
    _pad1: vec2<u32>,
};

// Corner `i` (0..6, two triangles) of the rectangle from `top_left` to `bottom_right`, in
// pixels of a target of `target_size`, as a clip-space position.
fn rect_vertex(i: u32, top_left: vec2<f32>, bottom_right: vec2<f32>, target_size: vec2<f32>) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let px = mix(top_left, bottom_right, corners[i]);
    let ndc = vec2<f32>(px.x / target_size.x * 2.0 - 1.0, 1.0 - px.y / target_size.y * 2.0);
    var out: VsOut;
    out.pos = vec4<f32>(ndc, 0.0, 1.0);
    out.viewport_px = px;
    return out;
}

// Vertex `i` (0..3) of one triangle that covers the whole target.
fn fullscreen_vertex(i: u32) -> VsOut {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var out: VsOut;
    out.pos = vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
    return out;
}

// Straight → premultiplied.
fn premultiply(c: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(c.rgb * c.a, c.a);
}

// The straight colour of a premultiplied value, clamped to 0..1 (half floats can push it a
// hair past 1); black where there is no alpha at all to divide by.
fn straight_rgb(p: vec4<f32>) -> vec3<f32> {
    if p.a <= 0.0 {
        return vec3<f32>(0.0);
    }
    return clamp(p.rgb / p.a, vec3<f32>(0.0), vec3<f32>(1.0));
}

// Premultiplied → straight, for storage: alpha that rounds to the byte 0 is transparent
// black, as model::pixels::unpremultiply makes it.
fn unpremultiply(p: vec4<f32>) -> vec4<f32> {
    let a = clamp(p.a, 0.0, 1.0);
    if a * 255.0 < 0.5 {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(straight_rgb(vec4<f32>(p.rgb, a)), a);
}
