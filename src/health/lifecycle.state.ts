import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is shutting down; readiness reports 503 from the moment it is. Once the HTTP
 * server closes (after the drain), requests still arriving on open connections are refused with 503.
 */
@Injectable()
export class LifecycleState {
  private shutdownStartedAt?: Date;
  private serverClosing = false;

  beginShutdown(): void {
    this.shutdownStartedAt ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.shutdownStartedAt !== undefined;
  }

  beginClosing(): void {
    this.beginShutdown();
    this.serverClosing = true;
  }

  get closing(): boolean {
    return this.serverClosing;
  }
}
