//! Sample content for a fresh local site (not a test): `scripts/dev` runs it
//! once, after it created the sample author, so that the first visitor finds
//! something to read, rate and comment on, in both languages.
//!
//! `dev-sample BASE_URL` with `SEALPOST_ADMIN_EMAIL` and
//! `SEALPOST_ADMIN_PASSWORD` naming that author (created beforehand with
//! `scripts/admin --local`, password only; the password is not kept): it
//! logs in, enrols TOTP (which `/admin/*` needs), and publishes the posts
//! below through the admin API, as an editor would.
use sealpost_e2e::bench::{BenchClient, admin_token, create_and_publish, note};
use serde_json::{Value, json};

/// The sample posts, each in English and Vietnamese.
fn posts() -> Vec<Value> {
    vec![
        json!({
            "translations": {
                "en": {
                    "title": "Welcome to Sealpost",
                    "slug": "welcome",
                    "excerpt": "What a reader can do here: read in two languages, rate, comment live and subscribe.",
                    "body": "Sealpost is a bilingual site that runs at the edge. This post is sample content \
                             that `scripts/dev` published on a fresh local site.\n\n\
                             ## What you can do\n\n\
                             - **Switch language** with the link at the top: you get this post in Vietnamese.\n\
                             - **Sign up** and **log in**: your password is sealed in the browser before it leaves.\n\
                             - **Rate** this post and **comment** on it: other readers see your comment appear live.\n\
                             - **Subscribe** at the foot of the page; locally, every email lands in `/__dev/mail`.\n\n\
                             ## For writers\n\n\
                             Posts are written in Markdown through the admin API, scheduled or published at once, \
                             and every page that shows them is purged from the edge cache the moment they change.",
                },
                "vi": {
                    "title": "Chào mừng đến với Sealpost",
                    "slug": "chao-mung",
                    "excerpt": "Bạn đọc có thể làm gì ở đây: đọc bằng hai ngôn ngữ, chấm điểm, bình luận trực tiếp và đăng ký nhận tin.",
                    "body": "Sealpost là một trang song ngữ chạy ở biên mạng. Bài viết này là nội dung mẫu \
                             do `scripts/dev` đăng trên một trang mới cài.\n\n\
                             ## Bạn có thể làm gì\n\n\
                             - **Đổi ngôn ngữ** bằng liên kết ở đầu trang: bạn sẽ đọc bài này bằng tiếng Anh.\n\
                             - **Đăng ký tài khoản** và **đăng nhập**: mật khẩu được niêm phong ngay trong trình duyệt.\n\
                             - **Chấm điểm** và **bình luận**: người đọc khác thấy bình luận của bạn hiện ra ngay.\n\
                             - **Nhận bài mới qua email** ở cuối trang; khi chạy cục bộ, mọi email nằm trong `/__dev/mail`.\n\n\
                             ## Dành cho người viết\n\n\
                             Bài viết được soạn bằng Markdown qua API quản trị, lên lịch hoặc đăng ngay, \
                             và mọi trang hiển thị bài được xoá khỏi bộ đệm biên ngay khi bài thay đổi.",
                },
            },
            "tags": ["welcome", "guide"],
        }),
        json!({
            "translations": {
                "en": {
                    "title": "Why pages are rendered at the edge",
                    "slug": "pages-at-the-edge",
                    "excerpt": "A page is built close to its reader, cached for a minute, and purged by every change.",
                    "body": "Each page is rendered by a worker in the data centre nearest to the reader, \
                             from the same public API any client uses.\n\n\
                             1. The first reader of a page waits for two API calls and a template.\n\
                             2. Every reader after that, for up to a minute, gets the cached copy.\n\
                             3. An editor's change, or the publishing cron, purges the copies at once.\n\n\
                             > Pages work without JavaScript; scripts only add live comments, rating and the read count.",
                },
                "vi": {
                    "title": "Vì sao trang được dựng ở biên mạng",
                    "slug": "trang-o-bien-mang",
                    "excerpt": "Trang được dựng gần người đọc, lưu đệm một phút và xoá khi có thay đổi.",
                    "body": "Mỗi trang được một worker ở trung tâm dữ liệu gần người đọc nhất dựng lên, \
                             từ chính API công khai mà mọi ứng dụng dùng.\n\n\
                             1. Người đọc đầu tiên chờ hai lần gọi API và một khuôn mẫu.\n\
                             2. Những người đọc sau, trong tối đa một phút, nhận bản đã lưu đệm.\n\
                             3. Khi biên tập viên sửa bài, hoặc khi cron đăng bài, các bản lưu đệm bị xoá ngay.\n\n\
                             > Trang vẫn dùng được khi tắt JavaScript; script chỉ thêm bình luận trực tiếp, chấm điểm và lượt đọc.",
                },
            },
            "tags": ["guide", "edge"],
        }),
    ]
}

fn main() {
    let usage =
        "usage: dev-sample BASE_URL (with SEALPOST_ADMIN_EMAIL and SEALPOST_ADMIN_PASSWORD set)";
    let base = std::env::args().nth(1).expect(usage);
    let email = std::env::var("SEALPOST_ADMIN_EMAIL").expect(usage);
    let password = std::env::var("SEALPOST_ADMIN_PASSWORD").expect(usage);
    let client = BenchClient::new(&base);
    let token = admin_token(&client, &email, &password);
    for post in posts() {
        create_and_publish(&client, &token, &post);
    }
    note("published the sample posts");
}
