package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// A citizen sends a petition on the public page on a phone, without signing in, and gets its code;
// the head of the agency concerned finds it in the officials' queue, routes it to the agency
// itself, answers it and publishes the answer; the citizen reads the answer by the code.
func TestBrowserPetitionSentAndAnswered(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)
	const agency = "000.00.10.H56" // the demo's second agency: demo-2-*

	b.phone()
	b.open("/phan-anh")
	b.run("send an empty petition", chromedp.Click(css("#feedback-send")), chromedp.WaitVisible(css(".problem")))
	b.run("fill the petition",
		chromedp.SetValue(css("#feedback-kind"), "petition"),
		chromedp.SetValue(css("#feedback-agency"), agency),
		chromedp.SetValue(css("#feedback-subject"), "Đề nghị bỏ bản sao chứng thực"),
		chromedp.SetValue(css("#feedback-content"), "Thủ tục đăng ký kinh doanh còn yêu cầu bản sao chứng thực căn cước."),
		chromedp.SetValue(css("#feedback-name"), "Trần Thị Mai"),
		chromedp.SetValue(css("#feedback-phone"), "0987 654 321"),
		chromedp.Click(css("#feedback-send")),
		chromedp.WaitVisible(css("#feedback-code")))
	code := b.text("#feedback-code")
	b.expectText("#feedback-state", "Chờ chuyển xử lý")
	if width := value(b, "measure the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
		t.Errorf("the feedback page is %d px wide on a 360 px phone", width)
	}
	b.screenshot("feedback-sent", false)
	b.desk()

	b.signIn(demo.tokens["demo-2-head"])
	b.openUntil("/can-bo/phan-anh", `#feedback-queue a[href="/can-bo/phan-anh/`+code+`"]`)
	b.run("open the petition", chromedp.Click(css(`#feedback-queue a[href="/can-bo/phan-anh/`+code+`"]`)), chromedp.WaitVisible(css("#feedback-route")))
	b.run("route it to the agency itself",
		chromedp.SetValue(css("#route-agency"), agency),
		chromedp.Click(css("#feedback-route-submit")),
		chromedp.WaitVisible(css("#feedback-done")))
	b.expectText("#feedback-state", "Đang xử lý")
	b.run("answer",
		chromedp.SetValue(css("#answer-answer"), "Sở đã kiến nghị bãi bỏ yêu cầu bản sao chứng thực từ quý tới."),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#feedback-done").forEach(e => e.remove())`),
		chromedp.Click(css("#feedback-answer-submit")),
		chromedp.WaitVisible(css("#feedback-done")))
	b.expectText("#feedback-state", "Đã trả lời")
	b.run("publish",
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#feedback-done").forEach(e => e.remove())`),
		chromedp.Click(css("#feedback-publish-submit")),
		chromedp.WaitVisible(css("#feedback-done")))
	b.expectText("#feedback-state", "công khai")
	b.screenshot("feedback-official", false)
	b.signOut()

	b.phone()
	b.open("/phan-anh/" + code)
	b.expectText("#feedback-answer", "bãi bỏ yêu cầu bản sao chứng thực")
	b.expectText("#feedback-state", "Đã trả lời và công khai")
}
