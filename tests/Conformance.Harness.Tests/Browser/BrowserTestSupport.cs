using Conformance.Harness.Browser;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// Debian's Chromium for the tests of this folder. Without it a developer's run marks the tests Ignored with the
/// install command; under CI (CI=true, where .ci/run installs it) a missing browser fails them instead.
/// </summary>
public static class BrowserTestSupport
{
    public static async Task<Chromium> LaunchAsync()
    {
        if (Chromium.Unavailable is { } why)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why);
            Assert.Ignore(why);
        }
        return await Chromium.LaunchAsync();
    }

    /// <summary>A folder for a test's screenshots that outlives the test (the path is printed so a person can look).</summary>
    public static string ScreenshotDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "conformance-test-screenshots", name);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
