using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using PrimitiveRegister = ILGPU.Backends.RegisterAllocator<ILGPU.Backends.PTX.PTXRegisterKind>.PrimitiveRegister;

namespace Dclm.Gpu.Kernels;

/// <summary>
/// The single PTX instructions the kernels need and ILGPU has no operation for (dp4a, mma.sync, an fma that is not
/// contracted or split), as ILGPU intrinsics: methods marked <see cref="IntrinsicImplementationAttribute"/> whose .NET
/// body is what the CPU accelerator runs (the ISA's definition, or an emulation through shared memory), and whose calls
/// the PTX backend replaces with the instruction itself, operands and results in registers.
/// </summary>
/// <remarks>
/// Why not <c>CudaAsm.Emit</c>: ILGPU hands an inline-assembly result back through the address of a local variable,
/// so every result became a <c>st.local</c> and <c>ld.local</c>, which ptxas did not all remove. NVIDIA's own assembler
/// showed it (tests/oracles/ptxas): the q4_0 decode kernel had a 344-byte stack frame and 126 local-memory instructions in
/// its SASS, the f16 tensor-core prefill 184; with these intrinsics every kernel's frame is empty.
/// </remarks>
internal static class PtxIntrinsics
{
    /// <summary>Registers every intrinsic with the context being built; the CUDA context must be created through this.</summary>
    public static Context.Builder KernelIntrinsics(this Context.Builder builder)
    {
        var manager = builder.GetIntrinsicManager();
        Register(manager, typeof(DeviceNumbers), nameof(DeviceNumbers.ByteDot), nameof(ByteDot));
        Register(manager, typeof(DeviceNumbers), nameof(DeviceNumbers.FusedMultiplyAdd), nameof(FusedMultiplyAdd));
        Register(manager, typeof(DeviceNumbers), nameof(DeviceNumbers.Multiply), nameof(Multiply));
        Register(manager, typeof(DeviceNumbers), nameof(DeviceNumbers.Subtract), nameof(Subtract));
        Register(manager, typeof(TensorCoreMultiply), nameof(TensorCoreMultiply.Instruction), nameof(ByteMatrixMultiply));
        Register(manager, typeof(HalfTensorCoreMultiply), nameof(HalfTensorCoreMultiply.InstructionF16), nameof(HalfMatrixMultiply));
        Register(manager, typeof(HalfTensorCoreMultiply), nameof(HalfTensorCoreMultiply.InstructionBF16), nameof(BFloatMatrixMultiply));
        return builder;
    }

    private static void Register(IntrinsicImplementationManager manager, Type type, string method, string generator)
    {
        var target = type.GetMethod(method, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{type.Name}.{method} not found");
        if (target.GetCustomAttribute<IntrinsicImplementationAttribute>() is null)
            throw new InvalidOperationException($"{type.Name}.{method} is not marked [IntrinsicImplementation]");
        manager.RegisterMethod(target, new PTXIntrinsic(typeof(PtxIntrinsics), generator, IntrinsicImplementationMode.GenerateCode));
    }

    /// <summary>d = dp4a.s32.s32(a, b, c) for <see cref="DeviceNumbers.ByteDot"/>.</summary>
    private static void ByteDot(PTXBackend backend, PTXCodeGenerator generator, Value call) => Scalar(generator, call, "dp4a.s32.s32");

    /// <summary>d = fma.rn.f32(a, b, c) for <see cref="DeviceNumbers.FusedMultiplyAdd"/>.</summary>
    private static void FusedMultiplyAdd(PTXBackend backend, PTXCodeGenerator generator, Value call) => Scalar(generator, call, "fma.rn.f32");

    /// <summary>
    /// d = mul.rn.f32(a, b) for <see cref="DeviceNumbers.Multiply"/>. The explicit rounding modifier keeps the product out
    /// of contraction: the PTX ISA lets mul/add sequences without rounding modifiers become fused multiply-adds, and LLVM's
    /// NVPTX backend writes mul.rn for the same reason when fusion is not allowed. ptxas confirms it: a mul.rn.f32 feeding
    /// an add.f32 assembles to the very cubin that --fmad=false gives (PtxContractionTests).
    /// </summary>
    private static void Multiply(PTXBackend backend, PTXCodeGenerator generator, Value call) => Scalar(generator, call, "mul.rn.f32");

    /// <summary>d = sub.rn.f32(a, b) for <see cref="DeviceNumbers.Subtract"/>.</summary>
    private static void Subtract(PTXBackend backend, PTXCodeGenerator generator, Value call) => Scalar(generator, call, "sub.rn.f32");

    /// <summary>d = instruction(operands...) for a call of scalar arguments returning a scalar, each operand in a register.</summary>
    private static void Scalar(PTXCodeGenerator generator, Value call, string instruction)
    {
        var operands = new PrimitiveRegister[call.Count];
        for (int i = 0; i < operands.Length; i++) operands[i] = InRegister(generator, call[i]);
        var d = generator.AllocateHardware(call);
        using var command = generator.BeginCommand(instruction);
        command.AppendArgument(d);
        foreach (var operand in operands) command.AppendArgument(operand);
    }

    private static void ByteMatrixMultiply(PTXBackend backend, PTXCodeGenerator generator, Value call) =>
        MatrixMultiply(generator, call, "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32");

    private static void HalfMatrixMultiply(PTXBackend backend, PTXCodeGenerator generator, Value call) =>
        MatrixMultiply(generator, call, "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");

    private static void BFloatMatrixMultiply(PTXBackend backend, PTXCodeGenerator generator, Value call) =>
        MatrixMultiply(generator, call, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32");

    /// <summary>
    /// {d0..d3} = mma({a0..a3}, {b0, b1}, {c0..c3}) for a call (a0, a1, a2, a3, b0, b1, c0, c1, c2, c3) returning the
    /// four-field D fragment (an intrinsic's parameters must be scalars: ILGPU declares it as a function too, and a struct
    /// or view parameter fails there).
    /// </summary>
    private static void MatrixMultiply(PTXCodeGenerator generator, Value call, string instruction)
    {
        var operands = new PrimitiveRegister[10];
        for (int i = 0; i < operands.Length; i++) operands[i] = InRegister(generator, call[i]);
        var d = Fields(generator.Allocate(call)).ToArray();
        using var command = generator.BeginCommand(instruction);
        command.AppendVectorArgument(d);
        command.AppendVectorArgument(operands[..4]);
        command.AppendVectorArgument(operands[4..6]);
        command.AppendVectorArgument(operands[6..]);
    }

    /// <summary>The four primitive fields of a fragment struct (<see cref="Int4"/>, <see cref="Float4"/>), in field order.</summary>
    private static IEnumerable<PrimitiveRegister> Fields(RegisterAllocator<PTXRegisterKind>.Register fragment)
    {
        if (fragment is not RegisterAllocator<PTXRegisterKind>.CompoundRegister { NumChildren: 4 } compound)
            throw new InvalidOperationException($"an mma fragment must be a struct of four fields, not {fragment.Type}");
        return compound.Children.Select(child => (PrimitiveRegister)child);
    }

    /// <summary>
    /// The operand in a register: ILGPU keeps constants as immediates, which the matrix instructions do not take, so a
    /// constant is moved into a fresh register first.
    /// </summary>
    private static PrimitiveRegister InRegister(PTXCodeGenerator generator, Value value) => InRegister(generator, generator.LoadPrimitive(value));

    private static PrimitiveRegister InRegister(PTXCodeGenerator generator, PrimitiveRegister register)
    {
        if (register is not RegisterAllocator<PTXRegisterKind>.ConstantRegister constant) return register;
        var target = generator.AllocateRegister(constant.Description);
        using var move = generator.BeginCommand("mov.b" + BitWidth(constant.BasicValueType));
        move.AppendArgument(target);
        move.AppendArgument(constant);
        return target;
    }

    private static int BitWidth(BasicValueType type) => type switch
    {
        BasicValueType.Int32 or BasicValueType.Float32 => 32,
        BasicValueType.Int64 or BasicValueType.Float64 => 64,
        _ => throw new InvalidOperationException($"no intrinsic operand of type {type}"),
    };
}
