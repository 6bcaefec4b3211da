//! Every word the site shows, in English and Vietnamese: the templates'
//! text ([`Text`]) and the strings the browser scripts show
//! ([`Text::script_strings`]), and how dates read in each language.
use sealpost_api::Locale;

/// The site's text in one language.
#[derive(Debug)]
pub struct Text {
    pub lang: &'static str,
    /// The BCP 47 tag the scripts give `Intl.DateTimeFormat`, so that a date
    /// they write reads like [`Text::date`]'s ("3 December 2026").
    pub intl_locale: &'static str,
    /// The other language's name, in that language (the switch link).
    pub other_lang_name: &'static str,
    pub skip_to_content: &'static str,
    pub home: &'static str,
    pub tagline: &'static str,
    pub newest_posts: &'static str,
    pub search: &'static str,
    pub search_label: &'static str,
    pub search_results: &'static str,
    pub no_posts: &'static str,
    pub no_results: &'static str,
    pub tagged: &'static str,
    pub tags: &'static str,
    pub newer: &'static str,
    pub older: &'static str,
    pub page_of: &'static str,
    pub by: &'static str,
    pub published: &'static str,
    pub min_read: &'static str,
    pub reads: &'static str,
    pub rating: &'static str,
    pub no_ratings: &'static str,
    pub ratings: &'static str,
    pub rate_this: &'static str,
    pub rate_n: [&'static str; 5],
    pub sign_in_to_rate: &'static str,
    pub comments: &'static str,
    pub no_comments: &'static str,
    pub your_comment: &'static str,
    pub post_comment: &'static str,
    pub sign_in_to_comment: &'static str,
    pub subscribe_title: &'static str,
    pub subscribe_lead: &'static str,
    pub email: &'static str,
    pub subscribe: &'static str,
    pub feed: &'static str,
    pub login: &'static str,
    pub signup: &'static str,
    pub account: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub signup_title: &'static str,
    pub login_title: &'static str,
    pub have_account: &'static str,
    pub no_account: &'static str,
    pub mfa_code: &'static str,
    pub verify: &'static str,
    pub signed_out: &'static str,
    pub sign_out: &'static str,
    pub sessions: &'static str,
    pub revoke: &'static str,
    pub two_factor: &'static str,
    pub totp_setup: &'static str,
    pub totp_enable: &'static str,
    pub totp_scan: &'static str,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub save: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    pub generic_error: &'static str,
    pub months: [&'static str; 12],
    /// Strings for the browser scripts (`key`, text).
    pub script: &'static [(&'static str, &'static str)],
}

impl Text {
    pub fn of(lang: Locale) -> &'static Text {
        match lang {
            Locale::En => &EN,
            Locale::Vi => &VI,
        }
    }

    /// `2026-12-03T10:00:00Z` as a reader writes it: `3 December 2026`,
    /// `3 tháng 12, 2026`; the text itself when it is not such a time.
    pub fn date(&self, rfc3339: &str) -> String {
        let Some((y, m, d)) = ymd(rfc3339) else {
            return rfc3339.to_owned();
        };
        format!("{d} {} {y}", self.months[m - 1])
    }
}

/// Year, month (1–12) and day of an RFC 3339 time.
fn ymd(t: &str) -> Option<(u32, usize, u32)> {
    let date = t.get(..10)?;
    let mut it = date.split('-');
    let y = it.next()?.parse().ok()?;
    let m: usize = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

static EN: Text = Text {
    lang: "en",
    intl_locale: "en-GB",
    other_lang_name: "Tiếng Việt",
    skip_to_content: "Skip to content",
    home: "Home",
    tagline: "Stories in English and Vietnamese",
    newest_posts: "Newest posts",
    search: "Search",
    search_label: "Search posts",
    search_results: "Results for",
    no_posts: "No posts yet.",
    no_results: "Nothing matches your search.",
    tagged: "Posts tagged",
    tags: "Tags",
    newer: "Newer posts",
    older: "Older posts",
    page_of: "Page",
    by: "By",
    published: "Published",
    min_read: "min read",
    reads: "reads",
    rating: "Rating",
    no_ratings: "Not rated yet",
    ratings: "ratings",
    rate_this: "Rate this post",
    rate_n: ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
    sign_in_to_rate: "Log in to rate this post",
    comments: "Comments",
    no_comments: "No comments yet. Be the first.",
    your_comment: "Your comment",
    post_comment: "Post comment",
    sign_in_to_comment: "Log in to comment",
    subscribe_title: "Get new posts by email",
    subscribe_lead: "One email per post. Unsubscribe with one click.",
    email: "Email",
    subscribe: "Subscribe",
    feed: "Atom feed",
    login: "Log in",
    signup: "Sign up",
    account: "Account",
    password: "Password",
    display_name: "Display name",
    signup_title: "Create your account",
    login_title: "Log in",
    have_account: "Already have an account?",
    no_account: "New here?",
    mfa_code: "Code from your authenticator app",
    verify: "Verify",
    signed_out: "You are not logged in.",
    sign_out: "Log out",
    sessions: "Where you are logged in",
    revoke: "Log out there",
    two_factor: "Two-factor authentication",
    totp_setup: "Set up an authenticator app",
    totp_enable: "Turn on",
    totp_scan: "Scan the code with your authenticator app, or enter the key, then type the code it shows.",
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    save: "Save",
    not_found_title: "Page not found",
    not_found_body: "There is nothing at this address. It may have moved, or the link may be mistyped.",
    back_home: "Back to the home page",
    generic_error: "Something went wrong on our side. Please try again in a moment.",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    script: &[
        ("subscribeSending", "Sending…"),
        ("subscribeFailed", "That did not work. Please try again."),
        ("ratingSaved", "Thanks, your rating is saved."),
        ("ratingFailed", "Your rating could not be saved."),
        ("commentsLive", "Live"),
        ("commentsReconnecting", "Reconnecting…"),
        ("commentPosted", "Your comment is posted."),
        ("commentFailed", "Your comment could not be posted."),
        (
            "commentTooFast",
            "Please wait a moment before commenting again.",
        ),
        ("invalidCredentials", "Wrong email or password."),
        ("locked", "Too many attempts. Try again later."),
        ("emailTaken", "An account with this email already exists."),
        ("mfaInvalid", "That code is not right."),
        ("genericError", "Something went wrong. Please try again."),
        ("saved", "Saved."),
        ("totpEnabled", "Two-factor authentication is on."),
        (
            "passwordChanged",
            "Your password is changed. Other sessions were logged out.",
        ),
        ("current", "this browser"),
        (
            "subscribeDone",
            "Almost done: check your inbox to confirm your subscription.",
        ),
        ("totpOff", "Two-factor authentication is off."),
        ("revoke", "Log out there"),
        ("unknownDevice", "Unknown browser"),
        ("totpQrLabel", "QR code for your authenticator app"),
    ],
};

static VI: Text = Text {
    lang: "vi",
    intl_locale: "vi",
    other_lang_name: "English",
    skip_to_content: "Chuyển đến nội dung",
    home: "Trang chủ",
    tagline: "Bài viết bằng tiếng Việt và tiếng Anh",
    newest_posts: "Bài viết mới nhất",
    search: "Tìm kiếm",
    search_label: "Tìm bài viết",
    search_results: "Kết quả cho",
    no_posts: "Chưa có bài viết nào.",
    no_results: "Không tìm thấy bài viết phù hợp.",
    tagged: "Bài viết gắn thẻ",
    tags: "Thẻ",
    newer: "Bài mới hơn",
    older: "Bài cũ hơn",
    page_of: "Trang",
    by: "Tác giả",
    published: "Đăng ngày",
    min_read: "phút đọc",
    reads: "lượt đọc",
    rating: "Đánh giá",
    no_ratings: "Chưa có đánh giá",
    ratings: "lượt đánh giá",
    rate_this: "Đánh giá bài viết",
    rate_n: ["1 sao", "2 sao", "3 sao", "4 sao", "5 sao"],
    sign_in_to_rate: "Đăng nhập để đánh giá",
    comments: "Bình luận",
    no_comments: "Chưa có bình luận nào. Hãy là người đầu tiên.",
    your_comment: "Bình luận của bạn",
    post_comment: "Gửi bình luận",
    sign_in_to_comment: "Đăng nhập để bình luận",
    subscribe_title: "Nhận bài viết mới qua email",
    subscribe_lead: "Mỗi bài một email. Hủy đăng ký chỉ với một cú nhấp.",
    email: "Email",
    subscribe: "Đăng ký",
    feed: "Nguồn cấp Atom",
    login: "Đăng nhập",
    signup: "Đăng ký tài khoản",
    account: "Tài khoản",
    password: "Mật khẩu",
    display_name: "Tên hiển thị",
    signup_title: "Tạo tài khoản",
    login_title: "Đăng nhập",
    have_account: "Đã có tài khoản?",
    no_account: "Chưa có tài khoản?",
    mfa_code: "Mã từ ứng dụng xác thực",
    verify: "Xác minh",
    signed_out: "Bạn chưa đăng nhập.",
    sign_out: "Đăng xuất",
    sessions: "Các phiên đăng nhập",
    revoke: "Đăng xuất phiên này",
    two_factor: "Xác thực hai lớp",
    totp_setup: "Thiết lập ứng dụng xác thực",
    totp_enable: "Bật",
    totp_scan: "Quét mã bằng ứng dụng xác thực hoặc nhập khóa, rồi gõ mã hiển thị.",
    change_password: "Đổi mật khẩu",
    current_password: "Mật khẩu hiện tại",
    new_password: "Mật khẩu mới",
    save: "Lưu",
    not_found_title: "Không tìm thấy trang",
    not_found_body: "Không có gì ở địa chỉ này. Trang có thể đã được chuyển đi, hoặc liên kết bị gõ sai.",
    back_home: "Về trang chủ",
    generic_error: "Đã xảy ra lỗi từ phía chúng tôi. Vui lòng thử lại sau ít phút.",
    months: [
        "tháng 1,",
        "tháng 2,",
        "tháng 3,",
        "tháng 4,",
        "tháng 5,",
        "tháng 6,",
        "tháng 7,",
        "tháng 8,",
        "tháng 9,",
        "tháng 10,",
        "tháng 11,",
        "tháng 12,",
    ],
    script: &[
        ("subscribeSending", "Đang gửi…"),
        ("subscribeFailed", "Không thành công. Vui lòng thử lại."),
        ("ratingSaved", "Cảm ơn, đánh giá của bạn đã được lưu."),
        ("ratingFailed", "Không lưu được đánh giá."),
        ("commentsLive", "Trực tiếp"),
        ("commentsReconnecting", "Đang kết nối lại…"),
        ("commentPosted", "Bình luận của bạn đã được đăng."),
        ("commentFailed", "Không đăng được bình luận."),
        (
            "commentTooFast",
            "Vui lòng chờ một chút trước khi bình luận tiếp.",
        ),
        ("invalidCredentials", "Sai email hoặc mật khẩu."),
        ("locked", "Quá nhiều lần thử. Vui lòng thử lại sau."),
        ("emailTaken", "Email này đã có tài khoản."),
        ("mfaInvalid", "Mã không đúng."),
        ("genericError", "Đã xảy ra lỗi. Vui lòng thử lại."),
        ("saved", "Đã lưu."),
        ("totpEnabled", "Đã bật xác thực hai lớp."),
        (
            "passwordChanged",
            "Đã đổi mật khẩu. Các phiên khác đã bị đăng xuất.",
        ),
        ("current", "trình duyệt này"),
        (
            "subscribeDone",
            "Sắp xong: hãy kiểm tra hộp thư để xác nhận đăng ký.",
        ),
        ("totpOff", "Xác thực hai lớp đang tắt."),
        ("revoke", "Đăng xuất phiên này"),
        ("unknownDevice", "Trình duyệt không rõ"),
        ("totpQrLabel", "Mã QR cho ứng dụng xác thực"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally_in_each_language() {
        assert_eq!(
            Text::of(Locale::En).date("2026-12-03T10:00:00Z"),
            "3 December 2026"
        );
        assert_eq!(
            Text::of(Locale::Vi).date("2026-12-03T10:00:00Z"),
            "3 tháng 12, 2026"
        );
    }

    #[test]
    fn both_languages_give_the_scripts_the_same_keys() {
        let keys = |l| {
            Text::of(l)
                .script
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(Locale::En), keys(Locale::Vi));
    }

    /// The keys the scripts look up: `t('key')`, `errorText(…, 'key')` and
    /// the error codes' map (`AUTH_LOCKED: 'locked'`).
    fn keys_the_scripts_ask_for() -> Vec<String> {
        let scripts = [
            include_str!("../../site-assets/assets/js/app.js"),
            include_str!("../../site-assets/assets/js/account.js"),
        ];
        let mut keys = Vec::new();
        for script in scripts {
            for (i, _) in script.match_indices('\'') {
                let before = &script[..i];
                let call = before.strip_suffix("t(").is_some_and(|b| {
                    !b.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
                });
                let code = before
                    .rsplit('\n')
                    .next()
                    .and_then(|line| line.trim_start().strip_suffix(": "))
                    .is_some_and(|name| {
                        name.len() > 3 && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    });
                if call || code || before.ends_with("errorText(res.json, ") {
                    let rest = &script[i + 1..];
                    if let Some(end) = rest.find('\'') {
                        keys.push(rest[..end].to_owned());
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn every_string_a_script_shows_exists_in_both_languages() {
        let asked = keys_the_scripts_ask_for();
        assert!(asked.len() >= 10, "{asked:?}");
        for lang in [Locale::En, Locale::Vi] {
            for key in &asked {
                assert!(
                    Text::of(lang).script.iter().any(|(k, _)| k == key),
                    "{key} missing in {lang:?}"
                );
            }
        }
    }
}
