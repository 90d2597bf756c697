// The view path's plan draw: a layer chunk drawn with a mask and/or atop its clipping base
// at screen resolution. Appended to composite.wgsl, view_composite.wgsl and plan.wgsl
// (src/gpu/plan_draw.rs): the layer colour is found as view_composite.wgsl finds it, the
// pixel maths is plan.wgsl's.

@fragment
fn fs_plan_view_layer(in: VsOut) -> @location(0) vec4<f32> {
    let p = view_layer_colour(in.pos);
    var s = vec3<f32>(0.0);
    if p.a > 0.0 {
        s = clamp(p.rgb / p.a, vec3<f32>(0.0), vec3<f32>(1.0));
    }
    let b = textureLoad(backdrop_tex, vec2<i32>(floor(in.pos.xy)), 0);
    let cell = plan_cell(in.pos);
    let alpha = p.a * view_draw.opacity * mask_at(cell);
    return plan_pixel(s, alpha, view_draw.fill, b, view_draw.mode, cell);
}
