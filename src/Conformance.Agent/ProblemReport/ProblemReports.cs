using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.ProblemReport;

/// <summary>
/// RFC 0035 problem reports, and the protocol-specific <c>problem_report</c> messages of RFC 0160 and RFC 0023.
///
/// Sending: a report goes to the sender of the offending message, in the offending message's protocol family and
/// with its type prefix (legacy <c>did:sov:…;spec/</c> in, legacy out), threaded to it: <c>~thread.thid</c> is the
/// thread of the offending message ("The <c>~thread</c> attribute provides a context for the problem, referring to
/// the message which contains the problem", RFC 0160 §Errors). The code is written both as RFC 0160/0023's
/// <c>problem-code</c> and as RFC 0035's <c>description.code</c>, so agents reading either find it.
///
/// Receiving: a report is kept on its connection (<see cref="ConnectionRecord.ProblemReport"/>) and announced.
/// The protocols that define their own problem_report (connections, didexchange) see theirs first.
/// </summary>
public sealed class ProblemReports(ReferenceAgent agent) : IProtocolHandler
{
    public static bool IsProblemReport(MessageType t) => t.Name is "problem_report" or "problem-report";

    public bool Handles(MessageType type) => IsProblemReport(type);

    public Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        Record(inbound);
        return Task.CompletedTask;
    }

    /// <summary>Stores a received report on its connection (found by connection or by thread) and announces it.</summary>
    public ConnectionRecord? Record(InboundMessage inbound)
    {
        var thid = inbound.Message.Thread?.Thid;
        var conn = inbound.Connection ?? (thid == null ? null : agent.Store.FindConnectionByThread(thid));
        if (conn != null)
        {
            conn.ProblemReport = (JsonObject)inbound.Message.Json.DeepClone();
            agent.Store.Save(conn);
        }
        agent.Emit(new AgentEvent(AgentEvent.ProblemReportReceived, conn?.Id, thid, inbound.Message.Json));
        return conn;
    }

    /// <summary>Reads the problem code of a report in any of the shapes agents use.</summary>
    public static string? CodeOf(JsonObject report) =>
        report["problem-code"]?.GetValue<string>()
        ?? report["problem_code"]?.GetValue<string>()
        ?? (report["description"] as JsonObject)?["code"]?.GetValue<string>();

    /// <summary>Builds a problem report in <paramref name="family"/> (e.g. "connections/1.0").</summary>
    public AgentMessage Build(string family, string code, string explain, string? thid, string? pthid, string docUri = DocUris.DidCommOrg)
    {
        // RFC 0160, RFC 0023 and RFC 0434 (§Errors: "out-of-band/%VER/problem_report") name it problem_report; RFC 0035 problem-report.
        var name = family.StartsWith("connections/") || family.StartsWith("didexchange/") || family.StartsWith("out-of-band/") ? "problem_report" : "problem-report";
        var msg = agent.NewMessage(docUri + family + "/" + name);
        if (thid != null || pthid != null) msg = msg.WithThread(thid, pthid);
        msg.Json["problem-code"] = code;
        msg.Json["explain"] = explain;
        msg.Json["description"] = new JsonObject { ["en"] = explain, ["code"] = code };
        msg.Json["~l10n"] = new JsonObject { ["locale"] = "en" };
        return msg;
    }

    /// <summary>Answers an offending inbound message with the report the exception describes.</summary>
    public async Task SendAsync(InboundMessage inbound, ProblemReportException p, CancellationToken ct)
    {
        var docUri = inbound.Message.Type.DocUri;
        var report = Build(p.Family, p.Code, p.Explain, p.ThreadId ?? inbound.Message.ThreadId, p.ParentThreadId, docUri);
        var conn = p.Connection ?? inbound.Connection;
        if (conn != null)
        {
            conn.ProblemReport = (JsonObject)report.Json.DeepClone();
            agent.Store.Save(conn);
        }
        try
        {
            if (conn?.TheirService != null)
            {
                await agent.Outbound.SendAsync(report, conn, ct);
                return;
            }
            if (p.ReplyTo != null)
            {
                await agent.Outbound.SendToServiceAsync(report, p.ReplyTo, agent.Wallet.Find(inbound.RecipientVerkey), conn?.Id, ct);
                return;
            }
            if (inbound.SenderVerkey != null && inbound.Session is { IsOpen: true })
            {
                var service = new ServiceRecord { RecipientKeys = [inbound.SenderVerkey], Endpoint = "" };
                agent.Outbound.RegisterReturnRoute(inbound.SenderVerkey, inbound.Session);
                await agent.Outbound.SendToServiceAsync(report, service, agent.Wallet.Find(inbound.RecipientVerkey), conn?.Id, ct);
                return;
            }
            agent.Debug($"problem report {p.Code} not sent: no way back to the sender of {inbound.Message.Id}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            agent.Debug($"problem report {p.Code} could not be delivered: {e.Message}");
        }
    }

    /// <summary>An RFC 0035 report on a connection, outside any protocol's own problem_report.</summary>
    public async Task SendGenericAsync(ConnectionRecord conn, string code, string explain, string? thid, CancellationToken ct)
    {
        var report = Build("notification/1.0", code, explain, thid, null);
        if (conn.TheirService == null) return;
        try { await agent.Outbound.SendAsync(report, conn, ct); }
        catch (Exception e) when (e is not OperationCanceledException) { agent.Debug($"problem report {code} not delivered: {e.Message}"); }
    }
}
