package com.usdk.apiservice.aidl.printer;

/** STUB of uSDK's alignment constants. Never packaged. */
public interface AlignMode {
    int LEFT = 0;
    int CENTER = 1;
    int RIGHT = 2;
}
