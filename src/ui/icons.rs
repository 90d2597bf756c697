//! Small icons painted with shapes.
//!
//! egui's bundled fonts (Ubuntu Light, Hack) have no eye or grip glyphs, and Strata does not
//! ship emoji fonts, so these are drawn rather than typed.

use egui::{
    Color32, Pos2, Rect, Response, Role, Sense, Shape, Stroke, StrokeKind, Ui, WidgetInfo, pos2,
    vec2,
};

/// The visibility toggle of a layer or group: a box with an open eye when `visible`, empty
/// when hidden (as in Photoshop). Returns the click response.
///
/// Screen readers (and GUI tests) see a checkbox named `label` ("Show layer Sky", "Show
/// group Card"), checked while the layer is visible.
pub fn eye_toggle(ui: &mut Ui, visible: bool, label: &str) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(24.0, 20.0), Sense::click());
    response.widget_info(|| WidgetInfo::selected(Role::CheckBox, ui.is_enabled(), visible, label));
    if ui.is_rect_visible(rect) {
        let style = ui.style().interact(&response);
        let painter = ui.painter();
        painter.rect(
            rect,
            3.0,
            style.weak_bg_fill,
            style.bg_stroke,
            StrokeKind::Inside,
        );
        if visible {
            eye(painter, rect.center(), style.fg_stroke.color);
        }
    }
    response
}

/// An eye: almond outline and a filled pupil, about 14×8 points around `center`.
fn eye(painter: &egui::Painter, center: Pos2, color: Color32) {
    const STEPS: usize = 12;
    let (half_w, half_h) = (7.0_f32, 4.2_f32);
    let mut outline = Vec::with_capacity(2 * STEPS);
    for i in 0..STEPS {
        let x = -half_w + 2.0 * half_w * i as f32 / STEPS as f32;
        outline.push(center + vec2(x, -half_h * (1.0 - (x / half_w).powi(2))));
    }
    for i in 0..STEPS {
        let x = half_w - 2.0 * half_w * i as f32 / STEPS as f32;
        outline.push(center + vec2(x, half_h * (1.0 - (x / half_w).powi(2))));
    }
    painter.add(Shape::closed_line(outline, Stroke::new(1.3, color)));
    painter.circle_filled(center, 2.3, color);
}

/// A drag grip (two columns of three dots) that takes no clicks itself; put it inside
/// [`Ui::dnd_drag_source`].
pub fn grip(ui: &mut Ui) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(10.0, 20.0), Sense::hover());
    if ui.is_rect_visible(rect) {
        let color = ui.visuals().weak_text_color();
        for (col, row) in (0..2).flat_map(|c| (0..3).map(move |r| (c, r))) {
            let at = dot_position(rect, col, row);
            ui.painter().circle_filled(at, 1.3, color);
        }
    }
    response
}

fn dot_position(rect: Rect, col: usize, row: usize) -> Pos2 {
    let center = rect.center();
    pos2(
        center.x + (col as f32 - 0.5) * 4.0,
        center.y + (row as f32 - 1.0) * 4.5,
    )
}

/// The lock toggle of a layer or group: a padlock, closed and bright when `locked`, open and
/// faint otherwise. Returns the click response. Screen readers see a checkbox named `label`
/// ("Lock layer Sky", "Lock group Card").
pub fn lock_toggle(ui: &mut Ui, locked: bool, label: &str) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(18.0, 20.0), Sense::click());
    response.widget_info(|| WidgetInfo::selected(Role::CheckBox, ui.is_enabled(), locked, label));
    if ui.is_rect_visible(rect) {
        let style = ui.style().interact(&response);
        let color = if locked || response.hovered() {
            style.fg_stroke.color
        } else {
            ui.visuals().weak_text_color().gamma_multiply(0.6)
        };
        padlock(ui.painter(), rect.center(), locked, color);
    }
    response
}

/// A padlock about 10×13 points around `center`; the shackle is lifted when open.
fn padlock(painter: &egui::Painter, center: Pos2, locked: bool, color: Color32) {
    let body = Rect::from_center_size(center + vec2(0.0, 2.5), vec2(10.0, 7.5));
    painter.rect_filled(body, 1.5, color);
    let lift = if locked { 0.0 } else { -2.5 };
    let (left, right) = (body.left() + 2.2, body.right() - 2.2);
    let base = body.top() + lift;
    let top = base - 3.5;
    const STEPS: usize = 8;
    let mut shackle = Vec::with_capacity(STEPS + 3);
    shackle.push(pos2(left, body.top()));
    for i in 0..=STEPS {
        let t = std::f32::consts::PI * (1.0 - i as f32 / STEPS as f32);
        let x = (left + right) / 2.0 + (right - left) / 2.0 * t.cos();
        let y = base - (base - top) * t.sin();
        shackle.push(pos2(x, y));
    }
    if locked {
        shackle.push(pos2(right, body.top()));
    }
    painter.add(Shape::line(shackle, Stroke::new(1.4, color)));
}

/// A group's disclosure triangle: pointing right while `collapsed`, down while open.
/// Screen readers see a button named `label` ("Expand group Card").
pub fn disclosure(ui: &mut Ui, collapsed: bool, label: &str) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(14.0, 20.0), Sense::click());
    response.widget_info(|| WidgetInfo::labeled(Role::Button, ui.is_enabled(), label));
    if ui.is_rect_visible(rect) {
        let color = ui.style().interact(&response).fg_stroke.color;
        let c = rect.center();
        let points = if collapsed {
            vec![
                c + vec2(-2.5, -4.5),
                c + vec2(3.5, 0.0),
                c + vec2(-2.5, 4.5),
            ]
        } else {
            vec![
                c + vec2(-4.5, -2.5),
                c + vec2(4.5, -2.5),
                c + vec2(0.0, 3.5),
            ]
        };
        ui.painter()
            .add(Shape::convex_polygon(points, color, Stroke::NONE));
    }
    response
}

/// A folder, the group's picture where a layer has its thumbnail.
pub fn folder(ui: &mut Ui, open: bool) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(22.0, 20.0), Sense::hover());
    if ui.is_rect_visible(rect) {
        let color = ui.visuals().text_color().gamma_multiply(0.8);
        let body = Rect::from_center_size(rect.center() + vec2(0.0, 1.5), vec2(18.0, 12.0));
        let tab = Rect::from_min_size(body.min - vec2(0.0, 2.5), vec2(7.0, 3.0));
        let painter = ui.painter();
        painter.rect_filled(tab, 1.0, color);
        if open {
            painter.rect_stroke(body, 1.5, Stroke::new(1.3, color), StrokeKind::Inside);
        } else {
            painter.rect_filled(body, 1.5, color);
        }
    }
    response
}

/// The bent arrow (↳) before a clipped layer, pointing down at the layer it clips to.
/// Screen readers see an image named "Clipped to the layer below".
pub fn clip_arrow(ui: &mut Ui) -> Response {
    let (rect, response) = ui.allocate_exact_size(vec2(12.0, 20.0), Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "Clipped to the layer below"));
    if ui.is_rect_visible(rect) {
        let color = ui.visuals().text_color();
        let stroke = Stroke::new(1.4, color);
        let c = rect.center();
        let (top, corner, tip) = (
            c + vec2(-3.0, -6.0),
            c + vec2(-3.0, 2.0),
            c + vec2(4.0, 2.0),
        );
        let painter = ui.painter();
        painter.add(Shape::line(vec![top, corner, tip], stroke));
        painter.add(Shape::line(
            vec![tip + vec2(-3.0, -3.0), tip, tip + vec2(-3.0, 3.0)],
            stroke,
        ));
    }
    response
}
