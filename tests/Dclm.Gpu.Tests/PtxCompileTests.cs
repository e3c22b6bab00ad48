using System.Reflection;
using Dclm.Gpu.Kernels;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit.Abstractions;

namespace Dclm.Gpu.Tests;

/// <summary>
/// Every kernel compiles to PTX for Hopper (sm_90) in the context CUDA devices are opened in, on a machine without a
/// GPU: the CPU accelerator runs .NET's own math, so a kernel calling something the PTX backend cannot lower (MathF.Exp
/// without ILGPU.Algorithms, as on the first H200 run) passes every other test and fails only on a GPU.
/// </summary>
public sealed class PtxCompileTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var method in KernelMethods()) data.Add(Describe(method));
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelCompilesToPtxForHopper(string kernel)
    {
        var compiled = Compile(KernelMethods().Single(m => Describe(m) == kernel));
        Assert.Contains(".entry", compiled.PTXAssembly);
        Assert.Contains(".target sm_", compiled.PTXAssembly); // ILGPU 1.5.3 emits sm_80 PTX for sm_90; the driver compiles it
        // A .NET math call ILGPU has no lowering for becomes a call to an undefined external function (MathF.FusedMultiplyAdd
        // did): the PTX compiles here and fails to link on the GPU.
        Assert.DoesNotContain(".extern .func", compiled.PTXAssembly);
    }

    /// <summary>
    /// NVIDIA's own assembler (<see cref="PtxasOracle"/>) accepts every kernel's PTX for sm_90, and the kernel keeps all
    /// its values in registers: no stack frame (ILGPU's inline-assembly results once went through local memory: 344 bytes
    /// and 126 local loads and stores in the q4_0 decode kernel) and no spills.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelAssemblesWithPtxasIntoRegistersOnly(string kernel)
    {
        var report = PtxasOracle.Assemble(Compile(KernelMethods().Single(m => Describe(m) == kernel)).PTXAssembly, kernel);
        output.WriteLine($"{kernel}: {report.Registers} registers, {report.SharedBytes} bytes shared, {report.StackBytes} bytes stack");
        Assert.True(report.StackBytes == 0, $"{kernel} has a {report.StackBytes}-byte stack frame (local memory):\n{report.Output}");
        Assert.True(report.SpillStoreBytes == 0 && report.SpillLoadBytes == 0, $"{kernel} spills registers:\n{report.Output}");
        Assert.InRange(report.Registers, 1, 255);
    }

    /// <summary>The decode kernels stream weights with 16-byte loads (the Int4/Float4/UInt4 views), which ILGPU emits as ld.v4.</summary>
    [Theory]
    [InlineData("QuantizedMatrixKernels.MatrixVector<Q4Rows>")]
    [InlineData("QuantizedMatrixKernels.MatrixVector<Q8Rows>")]
    [InlineData("MatrixKernels.MatrixVector<BF16Rows>")]
    [InlineData("MatrixKernels.MatrixVector<F16Rows>")]
    [InlineData("MatrixKernels.MatrixVector<F32Rows>")]
    public void DecodeKernelsUseSixteenByteLoads(string kernel)
    {
        var compiled = Compile(KernelMethods().Single(m => Describe(m) == kernel));
        Assert.Contains("ld.v4.", compiled.PTXAssembly);
    }

    /// <summary>The quantized prefill runs on tensor cores: PTX's integer mma.sync, which the CPU accelerator emulates.</summary>
    [Theory]
    [InlineData("QuantizedTensorCoreKernels.MatrixMatrix<Q4Rows>")]
    [InlineData("QuantizedTensorCoreKernels.MatrixMatrix<Q8Rows>")]
    public void QuantizedPrefillUsesTensorCores(string kernel)
    {
        var compiled = Compile(KernelMethods().Single(m => Describe(m) == kernel));
        Assert.Contains("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32", compiled.PTXAssembly);
        var dump = Environment.GetEnvironmentVariable("DCLM_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, kernel.Replace('<', '_').Replace('>', '_') + ".ptx"), compiled.PTXAssembly);
    }

    /// <summary>
    /// The f16/bf16 prefill runs on tensor cores: PTX's m16n8k16 mma.sync with f32 accumulation in the weight's own type,
    /// which the CPU accelerator emulates; the fragments come in with 16-byte loads.
    /// </summary>
    [Theory]
    [InlineData("HalfTensorCoreKernels.MatrixMatrix<F16Tensor>", "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [InlineData("HalfTensorCoreKernels.MatrixMatrix<BF16Tensor>", "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void HalfPrefillUsesTensorCores(string kernel, string instruction)
    {
        var compiled = Compile(KernelMethods().Single(m => Describe(m) == kernel));
        Assert.Contains(instruction, compiled.PTXAssembly);
        Assert.Contains("ld.v4.", compiled.PTXAssembly);
        var dump = Environment.GetEnvironmentVariable("DCLM_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, kernel.Replace('<', '_').Replace('>', '_') + ".ptx"), compiled.PTXAssembly);
    }

    /// <summary>
    /// The quantized decode kernels' block sums are byte dots: dp4a (four signed byte products and a 32-bit add in one
    /// instruction) through <see cref="DeviceNumbers.ByteDot"/>, not the unpacking in software they replace; the loads
    /// stay 16 bytes wide.
    /// </summary>
    [Theory]
    [InlineData("QuantizedMatrixKernels.MatrixVector<Q4Rows>")]
    [InlineData("QuantizedMatrixKernels.MatrixVector<Q8Rows>")]
    public void QuantizedDecodeKernelsUseDp4a(string kernel)
    {
        var compiled = Compile(KernelMethods().Single(m => Describe(m) == kernel));
        Assert.Contains("dp4a.s32.s32", compiled.PTXAssembly);
        Assert.Contains("ld.v4.", compiled.PTXAssembly);
    }

    /// <summary>
    /// The tiled attention kernel stages keys and values with 16-byte loads and its static shared memory (queries,
    /// accumulators, one K/V chunk, scores) stays within the 48 KB a group may declare without opting in.
    /// </summary>
    [Fact]
    public void TiledAttentionUsesSixteenByteLoadsAndFitsStaticSharedMemory()
    {
        var ptx = Compile(KernelMethods().Single(m => Describe(m) == "TiledAttentionKernel.Attend")).PTXAssembly;
        Assert.Contains("ld.v4.", ptx);
        var declared = System.Text.RegularExpressions.Regex.Matches(ptx, @"\.shared\s+\.align\s+\d+\s+\.b8\s+\w+\[(\d+)\]");
        long bytes = declared.Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(bytes, 4 * (2 * TiledAttentionKernel.RowFloats + TiledAttentionKernel.ChunkFloats), 48 * 1024);
    }

    internal static PTXCompiledKernel Compile(MethodInfo method, OptimizationLevel level = OptimizationLevel.O1)
    {
        using var context = GpuDevice.CreateCudaContext(level);
        var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_88, null);
        bool implicitlyGrouped = method.GetParameters()[0].ParameterType.Name.StartsWith("Index", StringComparison.Ordinal);
        var entry = implicitlyGrouped ? EntryPointDescription.FromImplicitlyGroupedKernel(method) : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        return (PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization));
    }

    /// <summary>
    /// Under <see cref="GpuDevice.OptimizeVariable"/>=O2 (an A/B switch for a device run) every kernel still compiles and
    /// assembles into registers only, with nothing for ptxas to contract, and the decode kernels read weights with
    /// <c>ld.global</c> instead of generic loads.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelAssemblesAtOptimizationLevelTwo(string kernel)
    {
        var ptx = Compile(KernelMethods().Single(m => Describe(m) == kernel), OptimizationLevel.O2).PTXAssembly;
        var report = PtxasOracle.Assemble(ptx, kernel);
        Assert.True(report.StackBytes == 0 && report.SpillStoreBytes == 0, $"{kernel} at O2 uses local memory:\n{report.Output}");
        if (kernel.Contains("MatrixVector", StringComparison.Ordinal)) Assert.Contains("ld.global.v4.", ptx);
        Assert.True(PtxasOracle.Cubin(ptx, kernel, contract: true).AsSpan().SequenceEqual(PtxasOracle.Cubin(ptx, kernel, contract: false)),
            $"ptxas fuses a float multiply and add in {kernel} at O2 (see PtxContractionTests)");
    }

    [Theory]
    [InlineData(null, OptimizationLevel.O1)]
    [InlineData("", OptimizationLevel.O1)]
    [InlineData("o1", OptimizationLevel.O1)]
    [InlineData(" O2 ", OptimizationLevel.O2)]
    public void OptimizationSwitchReadsItsValues(string? value, OptimizationLevel expected) =>
        Assert.Equal(expected, GpuDevice.OptimizationFrom(value));

    [Fact]
    public void OptimizationSwitchRefusesOtherValuesInOneLine()
    {
        var error = Assert.Throws<GpuUnavailableException>(() => GpuDevice.OptimizationFrom("O3"));
        Assert.Equal("DCLM_GPU_OPTIMIZE='O3': use O1 (the default) or O2", error.Message);
    }

    [Fact]
    public void EveryWeightLayoutAndKernelClassIsCovered()
    {
        var names = KernelMethods().Select(Describe).ToList();
        Assert.Contains("QuantizedMatrixKernels.MatrixVector<Q4Rows>", names);
        Assert.Contains("QuantizedMatrixKernels.MatrixMatrix<Q8Rows>", names);
        Assert.Contains("MatrixKernels.MatrixVector<F16Rows>", names);
        Assert.Contains("MatrixKernels.MatrixMatrix<BF16Rows>", names);
        Assert.Contains("AttentionKernel.Attend", names);
        Assert.Contains("TiledAttentionKernel.Attend", names);
        Assert.Contains("ElementKernels.Norm", names);
        Assert.Contains("HalfTensorCoreKernels.Split<F16Tensor>", names);
        Assert.Contains("HalfTensorCoreKernels.MatrixMatrix<BF16Tensor>", names);
        Assert.Contains("AdapterKernels.AddLowRank", names);
    }

    // The kernels are the void static methods of the static classes in Dclm.Gpu.Kernels; generic ones (over the weight
    // layout or 16-bit format) are instantiated for every IWeightRows, IQuantizedRows or IHalfTensorFormat struct their
    // constraint admits.
    internal static IEnumerable<MethodInfo> KernelMethods()
    {
        var assembly = typeof(MatrixKernels).Assembly;
        var layouts = assembly.GetTypes().Where(t => t.IsValueType
                && (typeof(IWeightRows).IsAssignableFrom(t) || typeof(IQuantizedRows).IsAssignableFrom(t) || typeof(IHalfTensorFormat).IsAssignableFrom(t)))
            .OrderBy(t => t.Name).ToList();
        foreach (var type in assembly.GetTypes().Where(t => t.Namespace == typeof(MatrixKernels).Namespace && t.IsAbstract && t.IsSealed).OrderBy(t => t.Name))
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
                         .Where(m => m.ReturnType == typeof(void) && m.GetParameters().Length > 0).OrderBy(m => m.Name))
                if (method.IsGenericMethodDefinition)
                    foreach (var layout in layouts.Where(l => method.GetGenericArguments()[0].GetGenericParameterConstraints().All(c => c.IsAssignableFrom(l))))
                        yield return method.MakeGenericMethod(layout);
                else yield return method;
    }

    internal static string Describe(MethodInfo m) =>
        $"{m.DeclaringType!.Name}.{m.Name}{(m.IsGenericMethod ? $"<{m.GetGenericArguments()[0].Name}>" : "")}";
}
