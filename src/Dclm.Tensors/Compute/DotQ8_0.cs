namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot product of one Q8_0 weight row with one <see cref="Q8Row"/> activation row:
/// Σ_b d_w[b]·d_a[b]·Σ_j q_w[b,j]·q_a[b,j], the integer sums exact and the float arithmetic that of
/// <see cref="BlockGroups"/>, so every level gives the same bits.
/// </summary>
internal static unsafe partial class DotQ8_0
{
    public static float Scalar(byte* weight, Q8Row activation, int blocks) => BlockGroups.Reference(weight, 34, activation, blocks, &BlockSum);

    /// <summary>Σ_j q_w[j]·q_a[j] over one block: the exact integer part every ISA path must reproduce.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int BlockSum(byte* weightBlock, sbyte* activationQuants)
    {
        sbyte* q = (sbyte*)(weightBlock + 2);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += q[j] * activationQuants[j];
        return sum;
    }
}
