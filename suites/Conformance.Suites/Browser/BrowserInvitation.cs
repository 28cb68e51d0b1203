using System.Text.Json.Nodes;
using Conformance.Harness.Browser;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Invitations;

namespace Conformance.Suites.Browser;

/// <summary>
/// RFC 0160 §0 Standard Invitation Encoding, checked the way a new user meets it: "Those new users will load the URL
/// in a browser as a default behavior, and will be presented with instructions on how to install software capable of
/// processing the invitation." The agent under test's invitation URL (from its backchannel) is loaded in Debian's
/// Chromium; the screenshot of what the browser showed is attached to the case page.
/// </summary>
[Suite("RFC0160", "Invitation URL in a browser", Connections160.Section + "#standard-invitation-encoding", RunsAlone = true)] // a browser wants the machine
public static class BrowserInvitation
{
    [Case("BROWSER-INVITATION-001",
        "`<domain>` and `<path>` should be kept as short as possible, and the full URL should return human readable instructions when loaded in a browser. This is intended to aid new users.",
        Level = Level.SHOULD, Description = "Loads the invitation URL in Chromium: HTTP 200 and a page of text (not JSON, not just the encoded invitation).")]
    public static async Task Invitation_url_shows_instructions_in_a_browser(CaseContext c)
    {
        var (url, _) = await Browsers.ConnectionInvitationUrlAsync(c);
        await ShowsInstructions(c, url, "invitation URL", "invitation");
    }

    /// <summary>The two checks of a landing page: HTTP 200, and readable text rather than the encoded payload.</summary>
    internal static async Task ShowsInstructions(CaseContext c, string url, string urlKind, string payloadKind)
    {
        var visit = await Browsers.VisitAsync(c, url);
        c.Should($"Loaded in a browser, the {urlKind} answers HTTP 200.", visit.Status == 200, "HTTP 200", visit.Summary);
        c.Should($"The page shows human-readable instructions (a page of text, not JSON or the encoded {payloadKind} alone).",
            visit.IsHumanReadable, "a rendered page with at least 8 words of text", visit.Summary);
    }

    [Case("BROWSER-INVITATION-002",
        "The c_i query parameter is required and is reserved to contain the invitation string.",
        Description = "The URL as the browser parsed it (after any redirect that kept the invitation) still carries c_i, and it decodes to the invitation the agent reported.")]
    public static async Task Invitation_url_c_i_survives_the_browser(CaseContext c)
    {
        var (url, invitation) = await Browsers.ConnectionInvitationUrlAsync(c);
        await ParameterSurvivesTheBrowser(c, url, invitation, InvitationParameter.ConnectionInvitation);
    }

    [Case("BROWSER-INVITATION-003",
        "Invitation URLs can be transferred via any method that can send text, including an email, SMS, posting on a website, or via a QR Code.",
        Description = "If the landing page shows a QR code, the code (read from the rendered pixels) is the invitation URL. A page without one is UNSUPPORTED: a QR code is optional.")]
    public static async Task Landing_page_qr_code_is_the_invitation_url(CaseContext c)
    {
        var (url, _) = await Browsers.ConnectionInvitationUrlAsync(c);
        await QrIsTheUrl(c, url);
    }

    internal static async Task<PageVisit> ParameterSurvivesTheBrowser(CaseContext c, string url, JsonObject invitation, InvitationParameter parameter)
    {
        var name = InvitationUrl.ParameterName(parameter);
        var visit = await Browsers.VisitAsync(c, url);
        c.Must("The browser can load the invitation URL (it is a well-formed URL).", visit.Error == null, "the page loads", visit.Summary);
        // A redirect may lead elsewhere (an app store page); the URL the user was given is what carries the invitation then.
        var seen = visit.FinalUrl.Contains(name + "=") ? visit.FinalUrl : url;
        if (seen != visit.FinalUrl) c.Note($"the browser was redirected to {visit.FinalUrl}, which does not carry {name}");
        DecodedInvitation? decoded = null;
        string? error = null;
        try { decoded = InvitationUrl.Decode(seen); }
        catch (InvitationException e) { error = e.Message; }
        c.Must($"The URL carries the {name} parameter.", decoded?.Parameter == parameter, $"?{name}=…", error ?? seen);
        c.Must($"The {name} parameter, as the browser passed it, decodes to the invitation the agent reported.",
            JsonNode.DeepEquals(decoded!.Message, invitation), invitation.ToJsonString(), decoded.Message.ToJsonString());
        return visit;
    }

    private static async Task QrIsTheUrl(CaseContext c, string url)
    {
        var visit = await Browsers.VisitAsync(c, url);
        // No page, no QR code: that the URL should show a page is BROWSER-INVITATION-001's SHOULD, not this case's MUST.
        if (visit.Error != null || visit.Status is not (>= 200 and < 400))
            throw CaseContext.Unsupported($"the invitation URL shows no page, so no QR code ({visit.Summary}); see BROWSER-INVITATION-001");
        if (visit.Qr.Outcome == QrOutcome.None) throw CaseContext.Unsupported("the landing page shows no QR code (optional)");
        CheckQr(c, url, visit.Qr);
    }

    internal static void CheckQr(CaseContext c, string url, QrFinding qr)
    {
        c.Must("The QR code on the page can be read (its finder patterns, format and error correction are valid).",
            qr.Outcome == QrOutcome.Read, "a readable QR code", $"{qr.Where}: {qr.Detail}");
        c.Note($"QR code ({qr.Where}, {qr.Detail}): {qr.Text}");
        c.Must("The QR code is the invitation URL (decoding the image yields the URL).", Browsers.SameUrl(qr.Text!, url), url, qr.Text);
    }
}

/// <summary>
/// RFC 0434 Standard Out-of-Band Message Encoding, in a browser: "Those new users will load the URL in a browser as a
/// default behavior, and may be presented with instructions on how to install software capable of processing the message."
/// </summary>
[Suite("RFC0434", "Out-of-band URL in a browser", "aries-rfcs/0434-outofband/README.md#standard-out-of-band-message-encoding", RunsAlone = true)]
public static class BrowserOutOfBand
{
    [Case("BROWSER-INVITATION-004",
        "`<domain>` and `<path>` should be kept as short as possible, and the full URL SHOULD return human readable instructions when loaded in a browser. This is intended to aid new users.",
        Level = Level.SHOULD,
        Description = "The same for an RFC 0434 out-of-band invitation URL (?oob=).")]
    public static async Task Oob_url_shows_instructions_in_a_browser(CaseContext c)
    {
        var (url, _) = await Browsers.OutOfBandInvitationUrlAsync(c);
        await BrowserInvitation.ShowsInstructions(c, url, "out-of-band URL", "message");
    }

    [Case("BROWSER-INVITATION-005",
        "The oob query parameter is required and is reserved to contain the out-of-band message string.",
        Description = "The oob parameter of the URL as the browser parsed it decodes to the invitation the agent reported; a QR code on the page, if any, is the URL.")]
    public static async Task Oob_url_parameter_and_qr_survive_the_browser(CaseContext c)
    {
        var (url, invitation) = await Browsers.OutOfBandInvitationUrlAsync(c);
        var visit = await BrowserInvitation.ParameterSurvivesTheBrowser(c, url, invitation, InvitationParameter.OutOfBand);
        if (visit.Qr.Outcome != QrOutcome.None) BrowserInvitation.CheckQr(c, url, visit.Qr);
    }
}
