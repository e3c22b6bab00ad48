namespace Dclm.Gpu;

/// <summary>
/// Counts kernel launches and host-to-device transfers, so a test can hold a decode step to a launch budget (each
/// launch costs ~4.5 µs of host time on an H200, more than most of a decode step's small kernels run). Every kernel
/// <see cref="GpuKernels"/> loads goes through one of the <c>Wrap</c> overloads.
/// </summary>
internal sealed class LaunchCounter
{
    /// <summary>Kernel launches so far.</summary>
    public long Launches { get; private set; }

    /// <summary>Copies between host and device so far (uploads and the logits copy back).</summary>
    public long Transfers { get; private set; }

    /// <summary>Counts one copy between host and device.</summary>
    public void CountTransfer() => Transfers++;

    public Action<T1, T2, T3> Wrap<T1, T2, T3>(Action<T1, T2, T3> kernel) =>
        (a, b, c) => { Launches++; kernel(a, b, c); };

    public Action<T1, T2, T3, T4> Wrap<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel) =>
        (a, b, c, d) => { Launches++; kernel(a, b, c, d); };

    public Action<T1, T2, T3, T4, T5> Wrap<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel) =>
        (a, b, c, d, e) => { Launches++; kernel(a, b, c, d, e); };

    public Action<T1, T2, T3, T4, T5, T6> Wrap<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel) =>
        (a, b, c, d, e, f) => { Launches++; kernel(a, b, c, d, e, f); };

    public Action<T1, T2, T3, T4, T5, T6, T7> Wrap<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel) =>
        (a, b, c, d, e, f, g) => { Launches++; kernel(a, b, c, d, e, f, g); };

    public Action<T1, T2, T3, T4, T5, T6, T7, T8> Wrap<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel) =>
        (a, b, c, d, e, f, g, h) => { Launches++; kernel(a, b, c, d, e, f, g, h); };

    public Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Wrap<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel) =>
        (a, b, c, d, e, f, g, h, i, j) => { Launches++; kernel(a, b, c, d, e, f, g, h, i, j); };

    public Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Wrap<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel) =>
        (a, b, c, d, e, f, g, h, i, j, k) => { Launches++; kernel(a, b, c, d, e, f, g, h, i, j, k); };

    public Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> Wrap<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> kernel) =>
        (a, b, c, d, e, f, g, h, i, j, k, l, m) => { Launches++; kernel(a, b, c, d, e, f, g, h, i, j, k, l, m); };
}
