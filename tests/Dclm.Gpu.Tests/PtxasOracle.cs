using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Dclm.Gpu.Tests;

/// <summary>
/// NVIDIA's PTX assembler, ptxas (CUDA 11.8, tests/oracles/ptxas/install.sh, run by scripts/setup.sh), assembling a
/// kernel's PTX for sm_90 the way the driver does at load time, on a machine without a GPU: what the CPU accelerator
/// cannot see (a malformed inline instruction, a register of the wrong type, shared memory over the limit) fails here,
/// and its -v report gives the registers, spills and shared memory each thread group needs. A missing ptxas fails the
/// test with the command that installs it.
/// </summary>
internal static partial class PtxasOracle
{
    /// <summary>What ptxas reports for one kernel.</summary>
    public sealed record Report(int Registers, int SpillStoreBytes, int SpillLoadBytes, int StackBytes, int SharedBytes, string Output);

    /// <summary>
    /// Assembles <paramref name="ptx"/> for sm_90. ILGPU writes the PTX ISA version of the newest driver it knows (8.8);
    /// this ptxas reads up to 7.8, so the version line is lowered to 7.8: an instruction newer than 7.8 still fails here.
    /// </summary>
    public static Report Assemble(string ptx, string name)
    {
        var (text, _) = Run(ptx, name, contract: true);
        return new Report(Number(Registers(), text), Number(SpillStores(), text), Number(SpillLoads(), text), Number(Stack(), text),
            Number(Shared(), text), text);
    }

    /// <summary>
    /// The cubin ptxas writes for <paramref name="ptx"/> (sm_90, as <see cref="Assemble"/>), with its default contraction
    /// of float multiplies and adds into fused multiply-adds, or with <c>--fmad=false</c> when <paramref name="contract"/> is
    /// false. The PTX ISA lets the assembler (and the driver, which assembles at load time the same way) fuse a mul.f32
    /// and an add.f32 that carry no rounding modifier; the CPU accelerator never does.
    /// </summary>
    public static byte[] Cubin(string ptx, string name, bool contract) => Run(ptx, name, contract).Cubin;

    private static (string Output, byte[] Cubin) Run(string ptx, string name, bool contract)
    {
        var ptxas = Path.Combine(OracleDirectory(), "bin", "ptxas");
        if (!File.Exists(ptxas))
            throw new InvalidOperationException($"NVIDIA's ptxas is not installed: run scripts/setup.sh (or: bash {Path.Combine(OracleDirectory(), "install.sh")})");
        var lowered = VersionLine().Replace(ptx, ".version 7.8", 1);
        var directory = Directory.CreateTempSubdirectory("dclm-ptxas-");
        try
        {
            var source = Path.Combine(directory.FullName, "kernel.ptx");
            var cubin = Path.Combine(directory.FullName, "kernel.cubin");
            File.WriteAllText(source, lowered);
            var start = new ProcessStartInfo(ptxas) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-arch=sm_90", "-v", "--fmad=" + (contract ? "true" : "false"), "-o", cubin, source })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("ptxas could not be started");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(entireProcessTree: true); throw new TimeoutException($"ptxas timed out on {name}"); }
            var text = output.Result + error.Result;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"ptxas rejected {name} ({process.ExitCode}):\n{text}");
            return (text, File.ReadAllBytes(cubin));
        }
        finally { directory.Delete(recursive: true); }
    }

    private static int Number(Regex pattern, string text) =>
        pattern.Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    private static string OracleDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "oracles", "ptxas");
            if (File.Exists(Path.Combine(candidate, "install.sh"))) return candidate;
        }
        throw new InvalidOperationException("tests/oracles/ptxas not found above the test binaries");
    }

    [GeneratedRegex(@"^\.version\s+\d+\.\d+", RegexOptions.Multiline)] private static partial Regex VersionLine();
    [GeneratedRegex(@"Used (\d+) registers")] private static partial Regex Registers();
    [GeneratedRegex(@"(\d+) bytes spill stores")] private static partial Regex SpillStores();
    [GeneratedRegex(@"(\d+) bytes spill loads")] private static partial Regex SpillLoads();
    [GeneratedRegex(@"(\d+) bytes stack frame")] private static partial Regex Stack();
    [GeneratedRegex(@"(\d+) bytes smem")] private static partial Regex Shared();
}
