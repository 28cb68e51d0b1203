// Loads a URL in Chromium the way a new user would (RFC 0160 §0: "Those new users will load the URL in a browser as a
// default behavior, and will be presented with instructions"), and reports what they saw: the HTTP status, the text
// on the screen, a full-page screenshot, and any QR code on the page — read from the rendered pixels (a screenshot
// of each square image, canvas or SVG, then of the whole page), never from the HTML.
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Conformance.Harness.Browser;

public enum QrOutcome { None, Read, Unreadable }

/// <summary>A QR code found on a page: its text, or why it could not be read. <see cref="ImagePath"/> is the picture that was decoded.</summary>
public sealed record QrFinding(QrOutcome Outcome, string? Text, string? Detail, string? Where, string? ImagePath);

/// <summary>What loading a URL showed.</summary>
public sealed record PageVisit(
    string Url, int? Status, string? ContentType, string FinalUrl, string Title, string VisibleText,
    string? ScreenshotPath, QrFinding Qr, string? Error)
{
    /// <summary>
    /// Human-readable instructions, judged without knowing the language: a rendered page (not JSON or plain base64)
    /// whose visible text, once long tokens such as URLs and base64 are set aside, has at least 8 words.
    /// </summary>
    public bool IsHumanReadable => Status is >= 200 and < 300 && !(ContentType ?? "").Contains("json") && WordCount >= 8;

    public int WordCount => Regex.Matches(Regex.Replace(VisibleText, @"\S{40,}", " "), @"\p{L}{2,}").Count;

    /// <summary>One line for a report: status, type and the start of the text.</summary>
    public string Summary =>
        Error ?? $"HTTP {Status?.ToString() ?? "?"} {ContentType ?? ""}; {WordCount} words: \"{Excerpt(VisibleText, 160)}\"";

    public static string Excerpt(string s, int max)
    {
        var one = Regex.Replace(s, @"\s+", " ").Trim();
        return one.Length <= max ? one : one[..max] + "…";
    }
}

public static class PageProbe
{
    /// <summary>
    /// Opens <paramref name="url"/> in a fresh page, screenshots it to <paramref name="screenshotPath"/> (full page) and
    /// looks for a QR code. Navigation failures (connection refused, bad URL) come back in <see cref="PageVisit.Error"/>.
    /// </summary>
    public static async Task<PageVisit> VisitAsync(Chromium chromium, string url, string screenshotPath)
    {
        var page = await chromium.NewPageAsync(scale: 2);
        try
        {
            IResponse? response;
            try { response = await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load, Timeout = 15_000 }); }
            catch (PlaywrightException e)
            {
                return new PageVisit(url, null, null, page.Url, "", "", null, new QrFinding(QrOutcome.None, null, null, null, null),
                    "the browser could not load the URL: " + Chromium.FirstLine(e.Message));
            }
            var status = response?.Status;
            var contentType = response == null ? null : (await response.AllHeadersAsync()).GetValueOrDefault("content-type");
            var title = await page.TitleAsync();
            var text = await page.EvaluateAsync<string>("() => document.body ? document.body.innerText : document.documentElement.innerText") ?? "";
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(screenshotPath))!);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshotPath, FullPage = true, Type = ScreenshotType.Png, Scale = ScreenshotScale.Css });
            var qr = await FindQrAsync(page, Path.ChangeExtension(screenshotPath, null) + "-qr.png");
            return new PageVisit(url, status, contentType, page.Url, title, text, screenshotPath, qr, null);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    /// <summary>Reads the first QR code on the page from its pixels: square images, canvases and SVGs first, then the whole page.</summary>
    public static async Task<QrFinding> FindQrAsync(IPage page, string qrImagePath)
    {
        QrFinding? unreadable = null;
        var candidates = await page.QuerySelectorAllAsync("img, canvas, svg, object, [role=img]");
        var index = 0;
        foreach (var el in candidates)
        {
            index++;
            if (!await el.IsVisibleAsync()) continue;
            var box = await el.BoundingBoxAsync();
            if (box == null || box.Width < 48 || box.Height < 48 || Math.Abs(box.Width - box.Height) > 0.2 * Math.Max(box.Width, box.Height)) continue;
            byte[] png;
            try { png = await el.ScreenshotAsync(new ElementHandleScreenshotOptions { Type = ScreenshotType.Png }); }
            catch (PlaywrightException) { continue; }
            var where = await el.EvaluateAsync<string>("e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')");
            var found = TryDecode(png, where, qrImagePath);
            if (found.Outcome == QrOutcome.Read) return found;
            if (found.Outcome == QrOutcome.Unreadable) unreadable ??= found;
        }
        // A QR drawn some other way (CSS, a table of cells): the whole page.
        var full = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true, Type = ScreenshotType.Png });
        var whole = TryDecode(full, "the page", qrImagePath);
        if (whole.Outcome == QrOutcome.Read) return whole;
        return unreadable ?? (whole.Outcome == QrOutcome.Unreadable ? whole : new QrFinding(QrOutcome.None, null, null, null, null));
    }

    private static QrFinding TryDecode(byte[] png, string where, string path)
    {
        try
        {
            var code = QrDecoder.DecodePng(png);
            File.WriteAllBytes(path, png);
            return new QrFinding(QrOutcome.Read, code.Text, $"version {code.Version}-{code.ErrorCorrection}, mask {code.Mask}", where, path);
        }
        catch (QrDecodeException e) when (e.Located)
        {
            File.WriteAllBytes(path, png);
            return new QrFinding(QrOutcome.Unreadable, null, e.Message, where, path);
        }
        catch (Exception e) when (e is QrDecodeException or ImageFormatException)
        {
            return new QrFinding(QrOutcome.None, null, e.Message, where, null);
        }
    }

    /// <summary>A folder for one run's screenshots (the report copies them next to the case pages).</summary>
    public static string AttachmentPath(string caseId, string name) =>
        Path.Combine(Path.GetTempPath(), $"conformance-attachments-{Environment.ProcessId}", Fixtures.GoldenFile.SafeName(caseId) + "-" + name);
}
