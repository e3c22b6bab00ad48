namespace Dclm.Tensors.Compute;

/// <summary>
/// Dot product of one Q4_0 weight row with one <see cref="Q8Row"/> activation row:
/// Σ_b d_w[b]·d_a[b]·Σ_j (q_w[b,j] - 8)·q_a[b,j], the integer sums exact and the float arithmetic
/// that of <see cref="BlockGroups"/>, so every level gives the same bits.
/// </summary>
internal static unsafe partial class DotQ4_0
{
    public static float Scalar(byte* weight, Q8Row activation, int blocks) => BlockGroups.Reference(weight, 18, activation, blocks, &BlockSum);

    /// <summary>Σ_j (q_w[j] - 8)·q_a[j] over one block.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int BlockSum(byte* weightBlock, sbyte* activationQuants)
    {
        byte* q = weightBlock + 2;
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += ((q[j] & 0xF) - 8) * activationQuants[j] + ((q[j] >> 4) - 8) * activationQuants[j + 16];
        return sum;
    }
}
