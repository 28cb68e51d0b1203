using System.Text.Json.Nodes;
using Conformance.Harness.Browser;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Browser;

/// <summary>
/// Steps the browser cases share: get an invitation URL from the agent under test (its backchannel), load it in
/// Debian's Chromium, and attach what the browser showed (a full-page screenshot, and the picture of any QR code) to
/// the case page.
/// </summary>
public static class Browsers
{
    /// <summary>"Acme generates a connection invitation", with the URL the agent would hand out.</summary>
    public static async Task<(string Url, JsonObject Invitation)> ConnectionInvitationUrlAsync(CaseContext c)
    {
        var created = await c.Backchannel.ConnectionCreateInvitationAsync();
        var invitation = created["invitation"] as JsonObject;
        c.Must("The inviter creates an invitation message (RFC 0160 §0).", invitation != null, "an invitation object", invitation != null ? "an invitation" : created.ToJsonString());
        var url = Flows.OptStr(created, "invitation_url")
                  ?? throw CaseContext.Unsupported("the agent's backchannel does not return an invitation_url (AATH does not require it), so there is no URL to load");
        return (url, invitation!);
    }

    /// <summary>An RFC 0434 out-of-band invitation with its URL.</summary>
    public static async Task<(string Url, JsonObject Invitation)> OutOfBandInvitationUrlAsync(CaseContext c)
    {
        var created = await c.Backchannel.OobSendInvitationMessageAsync(new JsonObject
        {
            ["handshake_protocols"] = new JsonArray("https://didcomm.org/didexchange/1.0", "https://didcomm.org/connections/1.0"),
            ["goal_code"] = "aries.vc.issue",
            ["goal"] = "To issue a Faber College graduate credential",
        });
        var invitation = created["invitation"] as JsonObject;
        c.Must("The sender creates an out-of-band invitation (RFC 0434).", invitation != null, "an invitation object", invitation != null ? "an invitation" : created.ToJsonString());
        var url = Flows.OptStr(created, "invitation_url")
                  ?? throw CaseContext.Unsupported("the agent's backchannel does not return an invitation_url for out-of-band invitations");
        return (url, invitation!);
    }

    /// <summary>Loads the URL in Chromium; attaches the screenshot (and the QR picture, if one was found).</summary>
    public static async Task<PageVisit> VisitAsync(CaseContext c, string url)
    {
        var chromium = await Chromium.SharedAsync();
        var visit = await PageProbe.VisitAsync(chromium, url, PageProbe.AttachmentPath(c.Info.Id, "landing-page.png"));
        if (visit.ScreenshotPath != null) c.Attach(visit.ScreenshotPath);
        if (visit.Qr.ImagePath != null) c.Attach(visit.Qr.ImagePath);
        c.Note($"browser: {visit.Summary}");
        return visit;
    }

    /// <summary>Is <paramref name="text"/> the same URL as <paramref name="url"/>: exactly, or after URL normalisation (a "/" added to an empty path)?</summary>
    public static bool SameUrl(string text, string url) =>
        text == url || (Uri.TryCreate(text, UriKind.Absolute, out var a) && Uri.TryCreate(url, UriKind.Absolute, out var b) && a.AbsoluteUri == b.AbsoluteUri);
}
