using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Suites.NUnit;

/// <summary>
/// Every case of the catalog as an NUnit test. Grades map onto NUnit outcomes: PASS = Passed, WARN = Assert.Warn,
/// FAIL = Failed (with expected/observed), UNSUPPORTED = Inconclusive (with the reason), ERROR = an infrastructure
/// exception. The agent under test comes from CONFORMANCE_AGENT (default: the embedded reference agent).
/// </summary>
[TestFixture]
public class Cases
{
    public static IEnumerable<TestCaseData> All() =>
        CaseCatalog.Discover(SuitesAssembly.Assembly).Select(c =>
            new TestCaseData(c.Id).SetName(c.Id).SetCategory(c.Rfc).SetDescription(c.Requirement));

    [TestCaseSource(nameof(All))]
    public async Task Case(string id)
    {
        var info = CaseCatalog.Discover(SuitesAssembly.Assembly).Single(c => c.Id == id);
        var result = await SuiteSession.Current.RunAsync(info);
        var detail = $"{result.Requirement}\nexpected: {result.Expected}\nobserved: {result.Observed}\n{result.Reason}";
        switch (result.Grade)
        {
            case Grade.PASS: Assert.Pass(); break;
            case Grade.WARN: Assert.Warn("SHOULD not met: " + detail); break;
            case Grade.FAIL: Assert.Fail("MUST broken: " + detail); break;
            case Grade.UNSUPPORTED: Assert.Inconclusive("UNSUPPORTED: " + result.Reason); break;
            default: throw new InvalidOperationException("ERROR (harness/infrastructure): " + result.Reason);
        }
    }
}

/// <summary>One agent under test for the whole `dotnet test` run; reports are written when the run ends.</summary>
[SetUpFixture]
public class SuiteSession
{
    private static SuiteSession? _current;
    public static SuiteSession Current => _current ?? throw new InvalidOperationException("suite session not started");

    private SuiteRunHost? _host;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _host = await SuiteRunHost.FromEnvironmentAsync();
        _current = this;
    }

    public Task<CaseResult> RunAsync(CaseInfo info) => _host!.RunCaseAsync(info);

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_host != null)
        {
            var dir = await _host.FinishAsync();
            if (dir != null) TestContext.Progress.WriteLine($"report: {dir}");
        }
    }
}
