//! What an editor reads beyond the list (docs/api.md, Editing): a saved
//! draft reopened with its Markdown, and a preview rendered as the site
//! will show it.
use sealpost_e2e::auth::new_member;
use sealpost_e2e::comments::editor;
use sealpost_e2e::{Stack, json, random_hex};

use super::{create, id, send};

pub(super) fn content_an_editor_reopens_a_saved_draft_and_previews_its_markdown(stack: &Stack) {
    let e = editor(stack);
    let draft = create(stack, &e, &random_hex(4));
    let path = format!("/admin/posts/{}", id(&draft));
    let reply = send(stack, "GET", &path, &e.otp.access, None);
    assert_eq!(reply.status, 200, "{reply}");
    let read = &reply.json()["data"];
    assert_eq!(read["status"], "draft", "{reply}");
    assert_eq!(read["version"], draft["version"]);
    assert_eq!(read["translations"], draft["translations"], "{reply}");
    assert_eq!(read["translations"]["vi"]["body"], "Nội dung **đậm**.");

    let markdown = "## Xin chào\n\n**đậm** <script>alert(1)</script>";
    let reply = send(
        stack,
        "POST",
        "/admin/preview",
        &e.otp.access,
        Some(&json!({"body": markdown})),
    );
    assert_eq!(reply.status, 200, "{reply}");
    let html = reply.json()["data"]["html"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        html.contains("<strong>đậm</strong>") && !html.contains("<script>"),
        "{html}"
    );

    send(
        stack,
        "POST",
        "/admin/preview",
        &e.otp.access,
        Some(&json!({"body": " "})),
    )
    .assert_validation("body");
    let member = new_member(stack, "content-reader");
    send(stack, "GET", &path, &member.access, None).assert_error(403, "FORBIDDEN");
    send(stack, "DELETE", &path, &e.otp.access, None);
    send(stack, "GET", &path, &e.otp.access, None).assert_error(404, "NOT_FOUND");
}
