package org.minifaas.observer;

/** Makes the number of running workers follow the observer's decision. */
interface Scaler {
    void scaleTo(int workers) throws Exception;

    /** SCALER=none: the decision is only recorded, as in the original. */
    Scaler NONE = workers -> {};
}
