using System.Diagnostics;
using Conformance.Harness.Drivers;

namespace Conformance.Harness.Grading;

/// <summary>
/// Runs one case and grades it. The grade is the worst of its checks (a broken MUST is FAIL, an unmet SHOULD is
/// WARN); a declared non-support is UNSUPPORTED; a failure of the harness or of reaching the agent is ERROR.
/// An agent's backchannel refusing a valid operation (HTTP 4xx/5xx) is the agent failing the case, not an ERROR.
/// </summary>
public static class CaseRunner
{
    public static Task<CaseResult> RunAsync(CaseInfo info, IAgentDriver aut, RunSettings settings, Action<CaseContext>? inspect = null) =>
        RunAsync(info, aut, null, settings, inspect);

    /// <summary>Runs a case against its target: the agent under test, or (for a mediator suite's case) the mediator
    /// under test. A case whose target this run does not have is UNSUPPORTED with the reason.</summary>
    public static async Task<CaseResult> RunAsync(CaseInfo info, IAgentDriver? aut, IMediatorUnderTest? mediator, RunSettings settings, Action<CaseContext>? inspect = null)
    {
        var onMediator = info.Target == CaseTarget.Mediator;
        var result = new CaseResult
        {
            Id = info.Id, Rfc = info.Rfc, Title = info.SuiteTitle, Requirement = info.Requirement, Level = info.Level,
            Section = info.Section, Description = info.Description, Aath = info.Aath, Counterpart = info.Counterpart,
            Agent = (onMediator ? mediator?.Name : aut?.Name) ?? "none",
        };
        if (onMediator) result.Peer = "the harness's DIDComm v2 clients";
        var sw = Stopwatch.StartNew();
        await using var c = new CaseContext(info, onMediator ? null : aut, settings, onMediator ? mediator : null);
        var begun = false;
        try
        {
            if (onMediator)
            {
                if (mediator is null) throw new UnsupportedException("no mediator under test in this run (conformance run --mediator embedded|DID|URL)");
                await mediator.BeginCaseAsync(info.Id);
            }
            else
            {
                if (aut is null) throw new UnsupportedException("no agent under test in this run (conformance run --agent NAME|URL)");
                await aut.BeginCaseAsync(info.Id);
            }
            begun = true;
            await info.RunAsync(c);
            result.Grade = c.Checks.Any(k => k.Grade == Grade.FAIL) ? Grade.FAIL
                : c.Checks.Any(k => k.Grade == Grade.WARN) ? Grade.WARN
                : c.Checks.Count == 0 ? Grade.ERROR
                : Grade.PASS;
            if (c.Checks.Count == 0) result.Reason = "the case checked nothing";
        }
        catch (CaseFailedException e)
        {
            result.Grade = Grade.FAIL;
            // A step that could not go on (e.g. a backchannel answer without a connection_id) records itself.
            if (!c.Checks.Any(k => k.Grade == Grade.FAIL))
                c.Checks.Add(new Check(e.Message, Level.MUST, false, null, null));
        }
        catch (UnsupportedException u)
        {
            result.Grade = Grade.UNSUPPORTED;
            result.Reason = u.Message;
        }
        catch (BackchannelUnsupportedException u)
        {
            result.Grade = Grade.UNSUPPORTED;
            result.Reason = $"the agent's backchannel answered 501 Not Implemented for {u.Path}";
        }
        catch (Conformance.Agent.Transport.DeliveryException d)
        {
            // The agent under test's DIDComm endpoint refused, failed or did not answer a message the case had to
            // deliver: that is the agent's behaviour, graded with the transport's answer as evidence.
            result.Grade = Grade.FAIL;
            c.Checks.Add(new Check("The agent under test's endpoint accepts DIDComm messages: \"A received message should be responded to with a 202 Accepted status code\" (RFC 0025).",
                Level.MUST, false, "HTTP 2xx within the timeout", d.Message));
        }
        catch (Exception e) when (onMediator && e is Conformance.Mediator.DidCommException or Conformance.Mediator.V2ProblemException
                                       or HttpRequestException or TaskCanceledException or TimeoutException or System.Net.WebSockets.WebSocketException)
        {
            // The mediator under test refused, broke off, garbled or did not answer an exchange the case needed: that
            // is the mediator's behaviour, graded with what happened as evidence.
            result.Grade = Grade.FAIL;
            c.Checks.Add(new Check("The mediator under test answers the case's DIDComm v2 exchanges (an HTTP or WebSocket reply it can read).",
                Level.MUST, false, "a reply the client can unpack, within the timeout", e.GetType().Name + ": " + e.Message));
        }
        catch (BackchannelException b) when (b.Status != 0)
        {
            result.Grade = Grade.FAIL;
            c.Checks.Add(new Check("The agent under test performs the operation the case asks of it through its backchannel.",
                Level.MUST, false, "a successful backchannel response", b.Message));
        }
        catch (Exception e)
        {
            result.Grade = Grade.ERROR;
            result.Reason = e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            // Let messages already in flight land in the wire log (a complete sent as the case ends), so that the
            // transcript — and the fixtures made from it — does not depend on who was faster.
            await c.Tap.QuietAsync(TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(2));
            if (begun)
            {
                try
                {
                    // The case's clients go before its mediator instance does (their sockets close politely).
                    if (onMediator) { await c.DisposeAsync(); await mediator!.EndCaseAsync(); }
                    else await aut!.EndCaseAsync();
                }
                catch (Exception e) { result.Reason ??= "end of case: " + e.Message; }
            }
        }
        sw.Stop();
        result.DurationMs = sw.ElapsedMilliseconds;
        result.Checks = c.Checks;
        result.Attachments = c.Attachments;
        result.Wire = c.Tap.ToRecords();
        var first = c.Checks.FirstOrDefault(k => k.Grade == Grade.FAIL) ?? c.Checks.FirstOrDefault(k => k.Grade == Grade.WARN);
        if (first != null)
        {
            result.Expected = first.Expected;
            result.Observed = first.Observed;
        }
        if (c.Notes.Count > 0) result.Observed = (result.Observed == null ? "" : result.Observed + "\n") + string.Join("\n", c.Notes);
        inspect?.Invoke(c);
        return result;
    }
}
