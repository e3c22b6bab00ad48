namespace Dclm.Gpu.Tests;

/// <summary>The step profile (DCLM_GPU_PROFILE) charges waited-for time to parts, decode and prefill steps apart.</summary>
public sealed class StepProfileTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    [Fact]
    public void ReportsEachPartPerStepKind()
    {
        var profile = new StepProfile(accelerator.Device.Accelerator);
        for (int step = 0; step < 2; step++)
        {
            profile.Begin(tokens: 1);
            Thread.Sleep(20);
            profile.Mark("attention");
            profile.Mark("down");
        }
        profile.Begin(tokens: 64);
        profile.Mark("attention");
        var report = new StringWriter();
        profile.Report(report);
        var lines = report.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("gpu profile, decode: 2 steps", lines[0]);
        // The slept part comes first (parts are sorted by time) at about 20 ms per step, one call per step.
        Assert.StartsWith("attention", lines[1]);
        double attention = double.Parse(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(attention, 19, 2000);
        Assert.EndsWith("1 calls/step", lines[1]);
        Assert.StartsWith("down", lines[2]);
        Assert.StartsWith("gpu profile, prefill: 1 steps", lines[3]);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public void IsOffUnlessTheVariableIsOne() =>
        Assert.Equal(Environment.GetEnvironmentVariable(StepProfile.Variable) == "1", StepProfile.FromEnvironment(accelerator.Device.Accelerator) is not null);
}
