// What the DIDComm port serves to plain GETs (and to the one local user of the manual-accept page):
//   /.well-known/did.json   the agent's public DID document, for did:web resolution;
//   /?c_i=… /?oob=… /?d_m=…  the invitation landing page. RFC 0160 §0 Standard Invitation Encoding: "the full URL
//                           should return human readable instructions when loaded in a browser. This is intended to
//                           aid new users." and "Invitation URLs can be transferred via any method that can send
//                           text, including ... via a QR Code." The page says who invites, with which handshake
//                           protocols and for what goal, how to accept, and shows the URL as a QR code (QRCoder).
//   /ui/pending             the manual-accept page: pending connection requests with Accept and Reject buttons.
//
// Safety of the pages: everything shown is HTML-escaped; pages send a Content-Security-Policy that allows no script
// and no resource but inline styles and data: images; the manual-accept page answers loopback clients only (the
// agent's own machine), changes state only on POST, and each POST must carry the page's random form token and, when
// the browser sends one, an Origin of this same host (no cross-site form posts).
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Invitations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conformance.Agent.Transport;

public static class PublicPages
{
    private const string Csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void Map(WebApplication app, ReferenceAgent agent)
    {
        app.MapGet("/.well-known/did.json", () => agent.PublicDid is { } pd
            ? Results.Text(pd.Document.ToJsonString(), "application/did+json")
            : Results.NotFound());

        app.MapGet("/", (HttpContext ctx) =>
        {
            var q = ctx.Request.Query;
            if (!q.ContainsKey("c_i") && !q.ContainsKey("oob") && !q.ContainsKey("d_m"))
                return Results.Text($"{agent.Options.Label}: DIDComm endpoint. POST application/didcomm-envelope-enc here.\n", "text/plain");
            Secure(ctx);
            return Results.Content(InvitationPage.Render(agent, InvitationPage.UrlAsIssued(agent, ctx.Request)), "text/html; charset=utf-8");
        });

        var ui = new PendingPage(agent);
        app.MapGet("/ui/pending", (HttpContext ctx) =>
        {
            if (!IsLocal(ctx)) return Results.NotFound();
            Secure(ctx);
            return Results.Content(ui.Render(), "text/html; charset=utf-8");
        });
        app.MapPost("/ui/pending/{id}/{decision}", async (HttpContext ctx, string id, string decision) =>
        {
            if (!IsLocal(ctx)) return Results.NotFound();
            if (decision is not ("accept" or "reject")) return Results.NotFound();
            if (!ctx.Request.HasFormContentType) return Results.BadRequest("a form post is expected");
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            if (!ui.TokenMatches(form["token"].ToString()) || !SameOrigin(ctx))
                return Results.Text("refused: this form did not come from the agent's own page\n", "text/plain", statusCode: 403);
            await ui.DecideAsync(id, decision == "accept", ctx.RequestAborted);
            return Results.Redirect("/ui/pending", permanent: false, preserveMethod: false);   // 302 → GET (post/redirect/get)
        });
    }

    private static void Secure(HttpContext ctx)
    {
        ctx.Response.Headers.ContentSecurityPolicy = Csp;
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        // same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" on the page's own form posts.
        ctx.Response.Headers["Referrer-Policy"] = "same-origin";
    }

    private static bool IsLocal(HttpContext ctx) => ctx.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);

    private static bool SameOrigin(HttpContext ctx)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || origin == "null") return origin.Length == 0;
        return Uri.TryCreate(origin, UriKind.Absolute, out var o) && string.Equals(o.Authority, ctx.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    internal static string Esc(string? s) => WebUtility.HtmlEncode(s ?? "");

    internal const string Style = """
        body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
        h1 { font-size: 1.6rem; margin-bottom: .25rem; } .muted { color: #57606a; }
        dl { display: grid; grid-template-columns: max-content auto; gap: .25rem 1rem; } dt { font-weight: 600; } dd { margin: 0; }
        code, pre { font: 13px/1.4 ui-monospace, monospace; word-break: break-all; white-space: pre-wrap; }
        figure { margin: 1rem 0; } figure img { image-rendering: pixelated; border: 1px solid #d0d7de; }
        ol li { margin: .25rem 0; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
        button { font: inherit; padding: .25rem .9rem; border-radius: 6px; border: 1px solid #8c959f; cursor: pointer; }
        button.accept { background: #1f883d; color: white; border-color: #1a7f37; } button.reject { background: #f6f8fa; color: #cf222e; }
        form { display: inline; } .notice { padding: .5rem .75rem; background: #ddf4ff; border: 1px solid #54aeff; border-radius: 6px; }
        """;
}

/// <summary>The invitation landing page (RFC 0160 §0 "Standard Invitation Encoding"; RFC 0434 invitations too).</summary>
public static class InvitationPage
{
    /// <summary>Pixels per QR module: crisp for phones and for the harness's own QR reader.</summary>
    public const int QrPixelsPerModule = 4;

    /// <summary>
    /// The invitation URL as this agent issued it: the request's path and raw query on the advertised endpoint it
    /// arrived at (so <c>http://host:port?c_i=…</c> stays without the "/" a browser adds), else the URL as requested.
    /// </summary>
    public static string UrlAsIssued(ReferenceAgent agent, HttpRequest request)
    {
        var authority = request.Host.Value ?? "";
        var query = request.QueryString.Value ?? "";
        var path = request.Path.Value ?? "/";
        foreach (var e in agent.Options.Endpoints)
        {
            if (!Uri.TryCreate(e, UriKind.Absolute, out var u) || u.Scheme != request.Scheme
                || !string.Equals(u.Authority, authority, StringComparison.OrdinalIgnoreCase)) continue;
            var basePath = e[(e.IndexOf(u.Authority, StringComparison.OrdinalIgnoreCase) + u.Authority.Length)..];
            if (basePath.Length == 0 && path == "/") return e + query;
            if (basePath.TrimEnd('/') == path.TrimEnd('/')) return e + query;
        }
        return $"{request.Scheme}://{authority}{path}{query}";
    }

    /// <summary>The page for <paramref name="url"/>; a damaged invitation gets a page that says so.</summary>
    public static string Render(ReferenceAgent agent, string url)
    {
        DecodedInvitation decoded;
        try { decoded = InvitationUrl.Decode(url); }
        catch (InvitationException x)
        {
            return Page("Invalid invitation", $"""
                <h1 id="invitation-title">This invitation link is damaged</h1>
                <p id="invitation-instructions">It could not be read ({PublicPages.Esc(x.Message)}). Ask the sender for a new invitation.</p>
                """);
        }
        var inv = decoded.Message;
        var label = Str(inv["label"]) ?? agent.Options.Label;
        var isOob = decoded.Parameter == InvitationParameter.OutOfBand;
        var type = Str(inv["@type"]) ?? "(no @type)";
        var protocols = isOob
            ? ((inv["handshake_protocols"] as JsonArray)?.Select(x => Str(x) ?? "?").ToList() ?? [])
            : type.Contains("connections/1.0/invitation") ? [type[..type.LastIndexOf('/')]] : [];
        var goal = Str(inv["goal"]);
        var goalCode = Str(inv["goal_code"]);
        var attachments = (inv["requests~attach"] as JsonArray)?.Count ?? 0;
        var kind = isOob ? "an out-of-band invitation (Aries RFC 0434)"
            : decoded.Parameter == InvitationParameter.ConnectionInvitation ? "a connection invitation (Aries RFC 0160)"
            : "a connectionless DIDComm message";
        var e = PublicPages.Esc;

        var details = new StringBuilder();
        details.Append($"<dt>From</dt><dd id=\"invitation-label\">{e(label)}</dd>\n");
        details.Append($"<dt>Kind</dt><dd id=\"invitation-kind\">{e(kind)}</dd>\n");
        if (protocols.Count > 0)
            details.Append($"<dt>Connection protocols</dt><dd id=\"invitation-protocols\">{e(string.Join(", ", protocols.Select(Describe)))}</dd>\n");
        if (goal != null || goalCode != null)
            details.Append($"<dt>Purpose</dt><dd id=\"invitation-goal\">{e(goal ?? goalCode)}{(goal != null && goalCode != null ? $" <span class=\"muted\">({e(goalCode)})</span>" : "")}</dd>\n");
        if (attachments > 0) details.Append($"<dt>Requests</dt><dd>{attachments} attached request(s) to act on after connecting</dd>\n");
        if (Str(inv["@id"]) is { } id) details.Append($"<dt>Invitation id</dt><dd><code>{e(id)}</code></dd>\n");

        string qr;
        try
        {
            qr = $"""
                <figure id="invitation-qr"><img id="invitation-qr-image" src="data:image/png;base64,{Convert.ToBase64String(QrPng(url))}"
                  alt="QR code of this invitation link"><figcaption class="muted">Scan this code with your wallet app.</figcaption></figure>
                """;
        }
        catch (QRCoder.Exceptions.DataTooLongException)
        {
            qr = "<p class=\"muted\">This invitation is too long to show as a QR code; copy the link instead.</p>";
        }
        var json = JsonSerializer.Serialize(inv, new JsonSerializerOptions { WriteIndented = true });
        return Page($"Invitation from {label}", $"""
            <h1 id="invitation-title">{e(label)} invites you to connect</h1>
            <p id="invitation-summary">This page is {e(kind)}: a request from <b>{e(label)}</b> to set up a private, secure
            connection between your digital wallet and theirs (DIDComm). Nothing happens until you accept it in your wallet.</p>
            <dl id="invitation-details">
            {details}</dl>
            {qr}
            <h2>How to accept</h2>
            <ol id="invitation-instructions">
            <li>If you do not have one yet, install a digital wallet or agent app that speaks DIDComm (Aries).</li>
            <li>In the app, choose <i>scan</i> and point the camera at the QR code above — or copy the invitation link below and paste it where the app asks for an invitation.</li>
            <li>Check that the app shows <b>{e(label)}</b> as the sender, then accept. Your app sends a connection request; once {e(label)} accepts it, you are connected.</li>
            </ol>
            <p>Invitation link:<br><code id="invitation-url">{e(url)}</code></p>
            <details><summary>The invitation message</summary><pre id="invitation-json">{e(json)}</pre></details>
            """);
    }

    /// <summary>The URL as a PNG QR code (error correction M).</summary>
    public static byte[] QrPng(string url)
    {
        using var gen = new QRCoder.QRCodeGenerator();
        using var data = gen.CreateQrCode(url, QRCoder.QRCodeGenerator.ECCLevel.M);
        return new QRCoder.PngByteQRCode(data).GetGraphic(QrPixelsPerModule);
    }

    private static string Describe(string protocol) => protocol switch
    {
        _ when protocol.Contains("/connections/1.") => protocol + " (RFC 0160)",
        _ when protocol.Contains("/didexchange/1.") => protocol + " (RFC 0023)",
        _ => protocol,
    };

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static string Page(string title, string body) => $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{PublicPages.Esc(title)}</title><style>{PublicPages.Style}</style></head>
        <body>
        {body}
        </body></html>
        """;
}

/// <summary>
/// The manual-accept page: connection requests this agent received and holds for a decision (manual-accept mode),
/// each with Accept (send the response: RFC 0160 §2 / RFC 0023 exchange response) and Reject (send a problem report
/// with request_not_accepted, RFC 0160 §Errors / RFC 0023 §Errors, and abandon the record).
/// </summary>
public sealed class PendingPage(ReferenceAgent agent)
{
    private readonly string _token = Convert.ToHexString(Conformance.Wire.Crypto.Entropy.System.Bytes(16));
    private readonly ConcurrentQueue<string> _notices = new();

    public bool TokenMatches(string token) =>
        token.Length == _token.Length && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(_token));

    /// <summary>Records held for the local user: the inviter/responder side, request received, not auto-accepted.</summary>
    public static IReadOnlyList<ConnectionRecord> Pending(ReferenceAgent agent) =>
        agent.Store.Connections().Where(c => c.Role == ConnectionRole.Inviter && !c.AutoAccept
            && (c.Protocol.StartsWith("connections/") && c.State == "requested"
                || c.Protocol.StartsWith("didexchange/") && c.State is "request-received" or "requested")).ToList();

    public string Render()
    {
        var e = PublicPages.Esc;
        var sb = new StringBuilder();
        sb.Append($"<h1>Pending connection requests</h1>\n<p class=\"muted\">{e(agent.Options.Label)} holds these requests until you decide.</p>\n");
        while (_notices.TryDequeue(out var n)) sb.Append($"<p class=\"notice\" role=\"status\">{e(n)}</p>\n");
        var pending = Pending(agent);
        if (pending.Count == 0)
        {
            sb.Append("<p id=\"no-pending\">No requests are waiting.</p>\n");
            return InvitationPage.Page("Pending requests", sb.ToString());
        }
        sb.Append("<table id=\"pending\"><thead><tr><th>From</th><th>Protocol</th><th>Their DID</th><th>Received</th><th></th></tr></thead><tbody>\n");
        foreach (var c in pending)
        {
            var form = (string d, string text) =>
                $"<form method=\"post\" action=\"/ui/pending/{Uri.EscapeDataString(c.Id)}/{d}\"><input type=\"hidden\" name=\"token\" value=\"{_token}\">" +
                $"<button type=\"submit\" class=\"{d}\" data-connection=\"{e(c.Id)}\">{text}</button></form>";
            sb.Append($"<tr class=\"pending-request\" data-connection=\"{e(c.Id)}\"><td class=\"their-label\">{e(c.TheirLabel ?? "(no label)")}</td>" +
                      $"<td>{e(c.Protocol)}</td><td><code>{e(c.TheirDid)}</code></td><td>{e(c.UpdatedAt.ToString("u"))}</td>" +
                      $"<td>{form("accept", "Accept")} {form("reject", "Reject")}</td></tr>\n");
        }
        sb.Append("</tbody></table>\n");
        return InvitationPage.Page("Pending requests", sb.ToString());
    }

    public async Task DecideAsync(string connectionId, bool accept, CancellationToken ct)
    {
        var c = Pending(agent).FirstOrDefault(x => x.Id == connectionId);
        if (c == null)
        {
            _notices.Enqueue("That request is no longer pending.");
            return;
        }
        var who = c.TheirLabel ?? "the requester";
        try
        {
            if (accept)
            {
                if (c.Protocol.StartsWith("didexchange/")) await agent.DidExchange.AcceptRequestAsync(c.Id, ct);
                else await agent.Connections.AcceptRequestAsync(c.Id, ct);
                _notices.Enqueue($"Accepted the request from {who}: the response was sent.");
            }
            else
            {
                await RejectAsync(agent, c, ct);
                _notices.Enqueue($"Rejected the request from {who}.");
            }
        }
        catch (Exception x) when (x is InvalidOperationException or DeliveryException or HttpRequestException or NotImplementedException or ProblemReportException)
        {
            _notices.Enqueue($"Could not {(accept ? "accept" : "reject")} the request from {who}: {x.Message}");
        }
    }

    /// <summary>
    /// Rejects a held request: RFC 0160 §Errors request_not_accepted ("The error indicates that the request has been
    /// rejected for a reason listed in the error_report"), RFC 0023 likewise, threaded to the request (thid = its @id).
    /// The record ends in error (connections/1.0) or abandoned (didexchange).
    /// </summary>
    public static async Task RejectAsync(ReferenceAgent agent, ConnectionRecord c, CancellationToken ct = default)
    {
        var report = agent.ProblemReports.Build(c.Protocol, "request_not_accepted", "the request was rejected by the user of the agent",
            c.ThreadId, c.ParentThreadId, DocUriOf(c));
        c.ProblemReport = (JsonObject)report.Json.DeepClone();
        agent.Transition(c, c.Protocol.StartsWith("didexchange/") ? "abandoned" : "error");
        if (c.TheirService == null) return;
        // Not answered yet, so no DID of our own on this connection: we speak with the invitation's key, which the
        // requester already knows (as the protocols' own request_not_accepted reports do).
        var sender = agent.Wallet.Find(c.MyVerkey ?? c.InvitationKey ?? "");
        await agent.Outbound.SendToServiceAsync(report, c.TheirService, sender, c.Id, ct);
    }

    private static string DocUriOf(ConnectionRecord c) =>
        c.Invitation?["@type"] is JsonValue v && v.TryGetValue<string>(out var t) && t.StartsWith(Conformance.Wire.Messages.DocUris.LegacySov)
            ? Conformance.Wire.Messages.DocUris.LegacySov : Conformance.Wire.Messages.DocUris.DidCommOrg;
}
