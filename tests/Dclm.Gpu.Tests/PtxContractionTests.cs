using System.Reflection;
using Dclm.Gpu.Kernels;
using ILGPU;
using Xunit.Abstractions;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The GPU computes the float bits the CPU accelerator computes: ILGPU writes a float product as mul.f32 without a
/// rounding modifier, which the PTX ISA lets ptxas (and the driver, assembling at load time) contract with a following
/// add into one fused multiply-add, rounded once where .NET rounds twice. The kernels write such products as
/// <see cref="DeviceNumbers.Multiply"/> (mul.rn.f32, never contracted) or as an explicit
/// <see cref="DeviceNumbers.FusedMultiplyAdd"/> that the CPU accelerator emulates exactly. NVIDIA's ptxas is the judge: a
/// kernel with nothing left to contract assembles to the same cubin, byte for byte, with contraction on (its default) and
/// with --fmad=false.
/// </summary>
/// <remarks>
/// Equal cubins prove that nothing was contracted; unequal ones do not quite prove that something was: with
/// --fmad=false ptxas also schedules some plain add.f32/sub.f32 differently (the f16 split's residual subtraction moved,
/// with the same instructions), which <see cref="DeviceNumbers.Subtract"/> (sub.rn.f32) settles. The judge is CUDA 11.8's
/// ptxas; a driver's newer assembler might fuse a plain mul.f32 this one leaves alone, which only writing every product
/// that feeds a sum explicitly rules out.
/// </remarks>
public sealed class PtxContractionTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(PtxCompileTests.Kernels), MemberType = typeof(PtxCompileTests))]
    public void KernelLeavesPtxasNothingToContract(string kernel)
    {
        var ptx = PtxCompileTests.Compile(PtxCompileTests.KernelMethods().Single(m => PtxCompileTests.Describe(m) == kernel)).PTXAssembly;
        var dump = Environment.GetEnvironmentVariable("DCLM_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, kernel.Replace('<', '_').Replace('>', '_') + ".ptx"), ptx);
        var contracted = PtxasOracle.Cubin(ptx, kernel, contract: true);
        var uncontracted = PtxasOracle.Cubin(ptx, kernel, contract: false);
        output.WriteLine($"{kernel}: cubin {contracted.Length} bytes by default, {uncontracted.Length} with --fmad=false");
        Assert.True(contracted.AsSpan().SequenceEqual(uncontracted),
            $"ptxas fuses a float multiply and add in {kernel} (its cubin changes with --fmad=false): write the product as DeviceNumbers.Multiply, "
            + "or as DeviceNumbers.FusedMultiplyAdd where one rounding is meant (if cuobjdump -sass shows no FFMA gone, a plain add or "
            + "subtraction was only rescheduled: DeviceNumbers.Subtract)");
    }

    /// <summary>
    /// The comparison can fail and is not noise: ptxas writes the same bytes for the same PTX (no time stamp or path in
    /// the cubin), a plain a·b + c changes with --fmad=false, and the same sum through Multiply does not.
    /// </summary>
    [Fact]
    public void CubinComparisonDetectsContractionAndIsDeterministic()
    {
        var plain = Ptx(nameof(PlainMultiplyAdd));
        Assert.Contains("mul.f32", plain);
        Assert.Equal(PtxasOracle.Cubin(plain, "plain", contract: true), PtxasOracle.Cubin(plain, "plain", contract: true));
        Assert.NotEqual(PtxasOracle.Cubin(plain, "plain", contract: true), PtxasOracle.Cubin(plain, "plain", contract: false));

        var rounded = Ptx(nameof(RoundedMultiplyAdd));
        Assert.Contains("mul.rn.f32", rounded);
        Assert.Equal(PtxasOracle.Cubin(rounded, "rounded", contract: true), PtxasOracle.Cubin(rounded, "rounded", contract: false));
    }

    private static string Ptx(string kernel) =>
        PtxCompileTests.Compile(typeof(PtxContractionTests).GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!).PTXAssembly;

    private static void PlainMultiplyAdd(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[3 * i] * x[3 * i + 1] + x[3 * i + 2];

    private static void RoundedMultiplyAdd(Index1D i, ArrayView<float> x, ArrayView<float> y) =>
        y[i] = DeviceNumbers.Multiply(x[3 * i], x[3 * i + 1]) + x[3 * i + 2];
}
