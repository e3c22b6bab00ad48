using System.Runtime.InteropServices;
using System.Text;
using System.Runtime.Intrinsics.X86;

namespace Dclm.Benchmarks;

/// <summary>
/// The processor a benchmark ran on (CPUID brand string, family, model, stepping) and how busy the machine
/// was, so that runs on different hosts, or on one host at different times, can be told apart.
/// </summary>
/// <param name="Name">The processor's name, e.g. "AMD EPYC 9R45" (a VM may shorten it to "AMD EPYC").</param>
/// <param name="Family">Display family (base plus extended), e.g. 26 for AMD Zen 5, 25 for Zen 3 and 4.</param>
/// <param name="Model">Display model (base plus extended).</param>
/// <param name="Stepping">Stepping.</param>
/// <param name="LogicalCores">Logical processors this process may use.</param>
public sealed record HostCpu(string Name, int Family, int Model, int Stepping, int LogicalCores)
{
    /// <summary>Reads CPUID on x86 (the name from /proc/cpuinfo where there is one); elsewhere the architecture's name and zeros.</summary>
    public static HostCpu Read()
    {
        if (!X86Base.IsSupported) return new HostCpu(RuntimeInformation.ProcessArchitecture.ToString(), 0, 0, 0, Environment.ProcessorCount);
        int signature = X86Base.CpuId(1, 0).Eax;
        int baseFamily = (signature >> 8) & 0xF, baseModel = (signature >> 4) & 0xF;
        // The extended fields count only for family 15 (and, for the model, family 6), as the vendors define them.
        int family = baseFamily == 0xF ? baseFamily + ((signature >> 20) & 0xFF) : baseFamily;
        int model = baseFamily is 0x6 or 0xF ? baseModel | (((signature >> 16) & 0xF) << 4) : baseModel;
        return new HostCpu(LinuxModelName() ?? BrandString(), family, model, signature & 0xF, Environment.ProcessorCount);
    }

    /// <summary>
    /// The "model name" of /proc/cpuinfo, as lscpu shows it. A hypervisor may give the kernel another brand
    /// string than the one CPUID returns to a process (here "AMD EPYC" against "Oxide Virtual Turin-like
    /// Processor"); docs record lscpu's, so the report uses the same.
    /// </summary>
    private static string? LinuxModelName()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                : null;
        }
        catch (IOException) { return null; }
    }

    /// <summary>"AMD EPYC (family 26, model 2, stepping 1), 2 logical cores".</summary>
    public override string ToString() => $"{Name} (family {Family}, model {Model}, stepping {Stepping}), {LogicalCores} logical cores";

    /// <summary>The 1-, 5- and 15-minute load averages (/proc/loadavg), or null where there are none.</summary>
    public static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
        }
        catch (IOException) { return null; }
    }

    private static string BrandString()
    {
        if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000004) return "unknown x86";
        var bytes = new byte[48];
        for (int i = 0; i < 3; i++)
        {
            var (a, b, c, d) = X86Base.CpuId(unchecked((int)0x80000002) + i, 0);
            foreach (var (value, slot) in new[] { (a, 0), (b, 1), (c, 2), (d, 3) })
                BitConverter.TryWriteBytes(bytes.AsSpan(16 * i + 4 * slot), value);
        }
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
    }
}
