//! The dashboard router served on a loopback port, asked with a real HTTP client.

use super::*;

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router::<()>()).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn index_is_html_with_a_strict_policy() {
    let base = serve().await;
    let r = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp} lacks {part}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-cache");
    let body = r.text().await.unwrap();
    assert!(body.contains(r#"<script type="module" src="/assets/app.js">"#));
}

#[tokio::test]
async fn every_asset_is_served_with_its_type() {
    let base = serve().await;
    for asset in ASSETS.iter().filter(|a| a.path != "index.html") {
        let r = reqwest::get(format!("{base}/assets/{}", asset.path))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", asset.path);
        assert_eq!(r.headers()["content-type"], asset.content_type);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), asset.etag());
        assert_eq!(r.bytes().await.unwrap().as_ref(), asset.body);
    }
}

#[tokio::test]
async fn a_matching_etag_is_not_modified() {
    let base = serve().await;
    let etag = assets::find("app.js").unwrap().etag();
    let r = reqwest::Client::new()
        .get(format!("{base}/assets/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn unknown_assets_are_not_found() {
    let base = serve().await;
    for path in [
        "nope.js",
        "index.html",
        "views",
        "views/nope.js",
        "..%2FCargo.toml",
    ] {
        let r = reqwest::get(format!("{base}/assets/{path}")).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.headers().contains_key("content-security-policy"));
    }
}

#[test]
fn no_inline_script_or_style_in_the_page() {
    let html = std::str::from_utf8(assets::find("index.html").unwrap().body).unwrap();
    assert!(!html.contains("<style"), "inline <style>");
    assert!(!html.contains(" style="), "inline style attribute");
    for tag in html.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(open.contains("src="), "inline <script>{tag}");
    }
    assert!(!html.contains(" on"), "inline event handler");
}

#[test]
fn every_module_import_is_an_embedded_asset() {
    for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        let text = std::str::from_utf8(asset.body).unwrap();
        let dir = asset.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        for line in text.lines().filter(|l| l.starts_with("import ")) {
            let spec = line.split(['\'', '"']).nth(1).unwrap();
            let mut parts: Vec<&str> = if dir.is_empty() {
                vec![]
            } else {
                dir.split('/').collect()
            };
            for p in spec.split('/') {
                match p {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            let target = parts.join("/");
            assert!(
                assets::find(&target).is_some(),
                "{} imports {spec} ({target}), which is not embedded",
                asset.path
            );
        }
    }
}

#[test]
fn the_token_is_kept_for_the_tab_only() {
    // sessionStorage lives as long as the tab; nothing the page runs keeps the token longer.
    for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        let text = std::str::from_utf8(asset.body).unwrap();
        for forbidden in ["localStorage", "document.cookie", "indexedDB"] {
            assert!(!text.contains(forbidden), "{} uses {forbidden}", asset.path);
        }
    }
    let api = std::str::from_utf8(assets::find("api.js").unwrap().body).unwrap();
    assert!(api.contains("sessionStorage.setItem(TOKEN_KEY"), "api.js");
}
