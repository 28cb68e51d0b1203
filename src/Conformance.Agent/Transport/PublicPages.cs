using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conformance.Agent.Transport;

/// <summary>
/// What the DIDComm port serves to plain GETs: the agent's public DID document for did:web resolution
/// (<c>/.well-known/did.json</c>), and the human-readable page at an invitation URL (RFC 0160: an invitation URL
/// "should return human readable instructions when loaded in a browser").
/// </summary>
public static class PublicPages
{
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
            return Results.Content(InvitationPage.Render(agent, ctx.Request.QueryString.Value ?? "", $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.Path}{ctx.Request.QueryString}"), "text/html; charset=utf-8");
        });
    }
}

/// <summary>The invitation landing page (issue 7 extends it with a QR code and richer content).</summary>
public static class InvitationPage
{
    public static string Render(ReferenceAgent agent, string query, string fullUrl)
    {
        string label = agent.Options.Label, protocols = "", goal = "";
        try
        {
            var decoded = Conformance.Wire.Invitations.InvitationUrl.Decode(fullUrl).Message;
            label = decoded["label"]?.GetValue<string>() ?? label;
            protocols = string.Join(", ", (decoded["handshake_protocols"] as System.Text.Json.Nodes.JsonArray)?.Select(x => x?.GetValue<string>()) ?? []);
            goal = decoded["goal"]?.GetValue<string>() ?? decoded["goal_code"]?.GetValue<string>() ?? "";
        }
        catch (Exception e) when (e is Wire.Invitations.InvitationException or InvalidOperationException or FormatException)
        {
            return "<!doctype html><title>Invalid invitation</title><h1>This invitation link is damaged</h1><p>It could not be decoded. Ask the sender for a new one.</p>";
        }
        static string enc(string s) => System.Net.WebUtility.HtmlEncode(s);
        return $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Invitation from {enc(label)}</title></head>
            <body>
            <h1>{enc(label)} invites you to connect</h1>
            <p>This is a DIDComm invitation. Open it with a digital wallet or agent (scan or paste this link) to create a secure connection with <b>{enc(label)}</b>.</p>
            {(protocols.Length > 0 ? $"<p>Connection protocols offered: {enc(protocols)}</p>" : "")}
            {(goal.Length > 0 ? $"<p>Purpose: {enc(goal)}</p>" : "")}
            <p>Invitation link: <code id="invitation-url">{enc(fullUrl)}</code></p>
            </body></html>
            """;
    }
}
