using System.Text.Json;

namespace Dclm.Cli.Tests;

/// <summary>`dclm bench` on a tiny model: its JSON names the host (checked against the kernel's /proc/cpuinfo), the kernels and where the weights were.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-bench-").FullName;

    [Fact]
    public void BenchReportsHostKernelsAndWeightResidence()
    {
        string model = TinyNeoXModel.Create(_directory);
        string json = Path.Combine(_directory, "bench.json");
        var result = DclmProcess.Run("bench", "--model", model, "--threads", "1", "--prompt", "4", "--gen", "2", "--repetitions", "1", "--mmap", "--json", json);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("host: ", result.Output);
        Assert.Contains("kernels: ", result.Output);

        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var root = document.RootElement;
        var host = root.GetProperty("host");
        Assert.Equal(Environment.ProcessorCount, host.GetProperty("logical_cores").GetInt32());
        if (OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.X86Base.IsSupported)
        {
            var cpuinfo = File.ReadLines("/proc/cpuinfo").TakeWhile(line => line.Length > 0).Where(line => line.Contains(':'))
                .ToDictionary(line => line[..line.IndexOf(':')].Trim(), line => line[(line.IndexOf(':') + 1)..].Trim());
            Assert.Equal(int.Parse(cpuinfo["cpu family"]), host.GetProperty("family").GetInt32());
            Assert.Equal(int.Parse(cpuinfo["model"]), host.GetProperty("model").GetInt32());
            Assert.Equal(int.Parse(cpuinfo["stepping"]), host.GetProperty("stepping").GetInt32());
            Assert.Equal(cpuinfo["model name"], host.GetProperty("cpu").GetString());
            Assert.Matches(@"^\d+\.\d+ \d+\.\d+ \d+\.\d+$", host.GetProperty("load_average_before").GetString());
        }
        var kernels = root.GetProperty("kernels").EnumerateObject().ToList();
        Assert.NotEmpty(kernels);
        Assert.All(kernels, k => Assert.Matches("^(scalar|avx2|avxvnni|avx512)(, prompt (scalar|avx2|avxvnni|avx512))?$", k.Value.GetString()));
        var ours = root.GetProperty("ours");
        Assert.Equal(1, ours.GetProperty("repetitions").GetInt32());
        Assert.Equal(ours.GetProperty("tg_min").GetDouble(), ours.GetProperty("tg_tps").GetDouble());
        Assert.Equal(ours.GetProperty("tg_max").GetDouble(), ours.GetProperty("tg_tps").GetDouble());
        // One probe before the repetition and one after it; the bound is the better of the two.
        var probes = root.GetProperty("bandwidth_gbps_samples").EnumerateArray().Select(p => p.GetDouble()).ToList();
        Assert.Equal(2, probes.Count);
        Assert.All(probes, p => Assert.True(p > 0));
        Assert.Equal(probes.Max(), root.GetProperty("bandwidth_gbps").GetDouble());
        Assert.Equal(probes.Average(), root.GetProperty("bandwidth_gbps_median").GetDouble(), 1e-9);
        double fraction = ours.GetProperty("tg_tps").GetDouble() * root.GetProperty("bytes_per_token").GetDouble() / (root.GetProperty("bandwidth_gbps").GetDouble() * 1e9);
        Assert.Equal(fraction, root.GetProperty("tg_fraction_of_bound").GetDouble(), 1e-9);
        Assert.Equal("mapped", root.GetProperty("weights").GetProperty("residence").GetString());
        Assert.Equal("asked for", root.GetProperty("weights").GetProperty("reason").GetString());
    }

    /// <summary>
    /// A model whose vocabulary is smaller than the prompt ids bench uses on real models (the dclm-tiny fixture has 512)
    /// is benched with ids inside its vocabulary (was: "token id 12152 is outside the vocabulary of 512"). The prompt
    /// ids are the same code on every device.
    /// </summary>
    [Fact]
    public void BenchRunsAModelWithASmallVocabulary()
    {
        var result = DclmProcess.Run("bench", "--model", DclmProcess.Fixture("dclm-tiny"), "--threads", "1", "--prompt", "16", "--gen", "4",
            "--repetitions", "1", "--work-dir", _directory);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("tg4", result.Output);
    }

    /// <summary>DCLM_KERNEL_LEVEL caps the kernels a whole run uses, as bench reports them.</summary>
    [Theory]
    [InlineData("scalar")]
    [InlineData("AVX2")]
    public void TheKernelLevelVariableCapsTheKernelsARunUses(string level)
    {
        if (level == "AVX2" && !(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)) return;
        string model = TinyNeoXModel.Create(_directory);
        string json = Path.Combine(_directory, $"bench-{level}.json");
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { ["DCLM_KERNEL_LEVEL"] = level },
            ["bench", "--model", model, "--threads", "1", "--prompt", "8", "--gen", "2", "--repetitions", "1", "--json", json]);
        Assert.True(result.ExitCode == 0, result.Error);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var kernels = document.RootElement.GetProperty("kernels").EnumerateObject().ToList();
        Assert.NotEmpty(kernels);
        string expected = level.ToLowerInvariant();
        Assert.All(kernels, k => Assert.Matches($"^{expected}(, prompt {expected})?$", k.Value.GetString()));
    }

    [Fact]
    public void AnUnknownKernelLevelIsOneLineNamingTheVariable()
    {
        var result = DclmProcess.RunWith(new Dictionary<string, string?> { ["DCLM_KERNEL_LEVEL"] = "avx9000" }, ["info", "--help"]);
        Assert.Equal(1, result.ExitCode);
        string error = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("DCLM_KERNEL_LEVEL='avx9000'", error);
        Assert.Contains("scalar, avx2, avxvnni or avx512", error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
